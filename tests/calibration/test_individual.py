"""k2d3 fit: a person's own parameters from their labs."""
import math

import pytest

import k2d3
from k2d3.calibration import individual
from k2d3.errors import InputError
from k2d3.model.build import parameters

D3 = k2d3.Regimen.from_dict({"supplements": [{"compound": "D3", "dose": "1000 IU", "every": "1 day"}]})


def test_two_25ohd_results_move_the_clearance_towards_the_persons():
    """A person whose 25(OH)D clearance is 0.7 times the table's (1.7 population SDs below
    it): their day-0 and day-120 results (simulated, rounded as a lab reports them) move the
    estimate from the table value towards theirs, by as much as two results with a 10 %
    lab error can against the population prior (CV 0.21): the maximum a posteriori lies
    between the two, and predicts the day-120 result better than the table value does."""
    subject = k2d3.Subject(age=55, weight_kg=80, baseline_25ohd_nmol_l=40)
    true = 0.7 * parameters()["cl_ohd25_70kg"].value
    tc = k2d3.simulate(subject, D3, days=120, times=[0, 120], parameters={"cl_ohd25_70kg": true}).timecourse
    labs = [individual.Lab(0.0, "ohd25_nmol_l", round(tc["ohd25_nmol_l"].iloc[0], 1)),
            individual.Lab(120.0, "ohd25_nmol_l", round(tc["ohd25_nmol_l"].iloc[-1], 1))]
    fit = individual.fit(k2d3.Subject(age=55, weight_kg=80), D3, labs)
    table = parameters()["cl_ohd25_70kg"].value
    assert fit.fitted == ["cl_ohd25_70kg"]
    assert true < fit.parameters["cl_ohd25_70kg"] < table - 0.2 * (table - true)
    population = k2d3.simulate(k2d3.Subject(age=55, weight_kg=80, baseline_25ohd_nmol_l=labs[0].value), D3,
                               days=120, times=[0, 120]).timecourse["ohd25_nmol_l"].iloc[-1]
    assert abs(fit.predicted[1] - labs[1].value) < abs(population - labs[1].value)
    again = individual.IndividualFit.from_dict(fit.as_dict())
    assert again.parameters == fit.parameters and again.subject.baseline_25ohd_nmol_l == 40


def test_without_a_day_0_result_the_background_input_is_fitted_too():
    labs = [individual.Lab(90.0, "ohd25_nmol_l", 70.0)]
    fit = individual.fit(k2d3.Subject(age=40), k2d3.Regimen(), labs)
    assert set(fit.fitted) == {"cl_ohd25_70kg", "d3_background_input"}
    assert fit.predicted[0] == pytest.approx(70.0, rel=0.05)


@pytest.mark.parametrize("text, problem", [
    ("day,observable,value\n", "at least one measurement"),
    ("day,observable\n1,inr\n", "lacks the column"),
    ("day,observable,value\n-2,inr,2.0\n", "day must be 0 or later"),
    ("day,observable,value\n3,ohd25,40\n", "unknown observable"),
    ("day,observable,value\n3,inr,45\n", "outside its physical range"),
    ("day,observable,value\nthree,inr,2\n", "must be numbers"),
])
def test_bad_lab_files_are_one_line_errors(text, problem):
    with pytest.raises(InputError) as e:
        individual.read_labs(text, "--measurements")
    assert problem in e.value.problem and "\n" not in str(e.value)


def test_a_fit_file_that_is_not_one_is_refused():
    with pytest.raises(InputError) as e:
        individual.IndividualFit.from_dict({"subject": {}, "regimen": {}, "labs": [], "parameters": {"nope": 1}})
    assert e.value.field == "--fit"
    assert math.isfinite(parameters()["cl_ohd25_70kg"].value)

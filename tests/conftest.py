import pytest

import k2d3


@pytest.fixture(scope="session")
def daily_d3_mk7():
    return k2d3.Regimen.from_dict({"supplements": [
        {"compound": "D3", "dose": "2000 IU", "every": "1 day"},
        {"compound": "MK-7", "dose": "180 ug", "every": "1 day"},
    ]})

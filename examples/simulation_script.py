# In file `simulation_script.py`
# A MED simulation script, as in the reference: run it with
#     medeq.MED("examples/simulation_script.py", seed=42)
# and every job executes this file with the parameters block below replaced
# by one sample's values.

# MED PARAMETERS START
import medeq

parameters = medeq.create_parameters(
    ["A", "B", "C"],
    [-5., -5., -5.],
    [10., 10., 10.],
)
# MED PARAMETERS END

# Run simulation in any way, locally, on a supercomputer and collect
# results - then define the variable `response` (float or list[float])
values = parameters["value"]
response = values["A"]**2 + values["B"]**2

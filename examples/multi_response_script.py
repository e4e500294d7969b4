# A MED simulation script with several named responses and extra data.
#
#     med = medeq.MED("examples/multi_response_script.py", seed=1)
#     med.sample(8); med.evaluate()
#     med.response_names  ->  ["drag", "lift"]
#
# `response` is a dict name -> number (names become response_names); a list
# of numbers works too. `extra` (anything JSON-serialisable) is saved with
# each job's result in outputs/<job_id>/result.json.
import math

# MED PARAMETERS START
import medeq

parameters = medeq.create_parameters(
    ["velocity", "angle"],
    [1.0, 0.0],
    [20.0, 30.0],
    units=["m/s", "deg"],
)
# MED PARAMETERS END

velocity = parameters["value"]["velocity"]
angle = math.radians(parameters["value"]["angle"])

drag = 0.5 * 1.2 * velocity**2 * (0.1 + math.sin(angle) ** 2)
lift = 0.5 * 1.2 * velocity**2 * 2 * math.pi * angle
print(f"velocity={velocity:.3f} angle={angle:.3f} -> drag={drag:.3f} lift={lift:.3f}")

response = {"drag": drag, "lift": lift}
extra = {"reynolds": velocity * 0.1 / 1.5e-5}

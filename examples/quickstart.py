"""The reference's local workflow, end to end: python examples/quickstart.py"""

import medeq

# Free parameters to explore.
parameters = medeq.create_parameters(
    ["A", "B"],
    minimums=[-5.0, -5.0],
    maximums=[10.0, 10.0],
)
print(parameters)

# A campaign; the default DVASampler covers the space, then targets uncertainty.
med = medeq.MED(parameters, seed=42)
print(med)
print(med.sample(5))

# Evaluate the queue manually (run your experiments, feed the numbers back)...
to_evaluate = med.queue
responses = [1, 2, 3, 4, 5]
med.evaluate(responses)


# ... or let medeq evaluate a Python function / model.
def instrument(sample):
    return sample[0] + sample[1]


med.sample(5)
med.evaluate(instrument)
print(med.results)

# Historical data from elsewhere.
samples = [
    [1, 1],
    [2, 2],
    [1, 2],
]
responses = [1, 2, 3]
med.augment(samples, responses)

# Discover the underlying equation on the function's results (no Julia needed).
law = med.subset(slice(5, 10))  # the rows evaluated by `instrument`
law.discover(binary_operators=["+", "*"], timeout_in_seconds=10)

# Save everything to a plain folder and pick it up anywhere.
med.save("med_quickstart")
print(medeq.MED.load("med_quickstart"))

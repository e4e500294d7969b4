"""Drag on a sphere in creeping (Stokes) flow - a small medeq simulation script.

A sphere of radius R moves at speed v through a fluid of viscosity mu at a
Reynolds number far below 1. The simulation takes the Stokes flow around the
sphere and integrates the fluid's traction - pressure plus viscous shear -
over the sphere's surface with Gauss-Legendre quadrature. The result is the
drag force, which medeq should rediscover as Stokes' law F = 6 pi mu R v.

Units: mu in Pa s, R in mm, v in mm/s, so the force is in micronewtons.
Run it alone (``python stokes_drag.py``) or explore it with medeq::

    medeq run stokes_drag.py --budget 32 --discover
"""

# MED PARAMETERS START
import medeq

parameters = medeq.create_parameters(
    ["mu", "R", "v"],
    minimums=[0.5, 0.5, 0.5],
    maximums=[2.0, 2.0, 2.0],
    units=["Pa s", "mm", "mm/s"],
)
# MED PARAMETERS END

import numpy as np

values = parameters["value"]
mu = values["mu"]                 # Pa s
R = values["R"] * 1e-3            # m
v = values["v"] * 1e-3            # m/s

# Stokes flow past a sphere (frame of the sphere, free stream v along z), on
# the surface r = R at polar angle theta:
#   pressure            p(theta)        = p_inf - 3 mu v cos(theta) / (2 R)
#   shear stress        tau_rt(theta)   = -3 mu v sin(theta) / (2 R)
# The drag is the z-component of the traction integrated over the surface:
#   F = int_0^pi [-p cos(theta) - tau_rt sin(theta)] 2 pi R^2 sin(theta) dtheta
nodes, weights = np.polynomial.legendre.leggauss(64)
theta = (nodes + 1) * np.pi / 2
weights = weights * np.pi / 2
pressure = -3 * mu * v * np.cos(theta) / (2 * R)           # p - p_inf
shear = -3 * mu * v * np.sin(theta) / (2 * R)
traction_z = -pressure * np.cos(theta) - shear * np.sin(theta)
force = np.sum(weights * traction_z * 2 * np.pi * R**2 * np.sin(theta))

reynolds = 1000 * v * 2 * R / mu   # water-like density: creeping flow needs Re << 1
assert reynolds < 0.1, f"Reynolds number {reynolds:.3g} is too high for Stokes flow"

response = force * 1e6             # micronewtons

"""Tools that combine the simulator and the policies: learned-policy data, training and evaluation commands."""

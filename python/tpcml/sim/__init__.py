"""Simulation drivers: realistic detector data from NEST yields and registry parameters."""

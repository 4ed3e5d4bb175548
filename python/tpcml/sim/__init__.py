"""Simulation: realistic detector data from NEST yields, the C++ detector response and registry parameters.

* :mod:`tpcml.sim.quanta`: recoil spectra and NEST quanta (photons, electrons) of LXe interactions;
* :mod:`tpcml.sim.lxe`: the one LXe simulation driver, ``Simulator`` (quanta -> the C++
  ``tpcml::LXeResponse``: S1/S2 features, drift, electron survival, position corrections), used by
  every LXe study and by quickstart; and the PandaX-II data set built with it (``simulate_dataset``);
* :mod:`tpcml.sim.gas`: the gas-TPC (PandaX-III) track simulation: materials, sources, transport,
  readout, simulator, writer.
"""

"""The ground floor every step stands on: errors, argument and file guards, install paths, the detector
registry, ROOT file I/O and the ROOT loader. Nothing here knows about a study."""

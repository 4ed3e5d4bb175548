// tpcml -- umbrella header: every public tpcml class, for macros and PyROOT.
//
//   gInterpreter->Declare("#include \"tpcml/tpcml.h\"");   // or #include it in a macro
#ifndef TPCML_TPCML_H
#define TPCML_TPCML_H

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/Guarded.h"
#include "tpcml/core/Provenance.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/Strings.h"
#include "tpcml/core/Units.h"
#include "tpcml/core/Version.h"
#include "tpcml/lxe/DriftCorrection.h"
#include "tpcml/lxe/LXeEvents.h"
#include "tpcml/lxe/LXeOptics.h"
#include "tpcml/lxe/LXeResponse.h"
#include "tpcml/lxe/NRMedian.h"
#include "tpcml/lxe/PositionCorrections.h"
#include "tpcml/lxe/Waveform.h"
#include "tpcml/pairing/AccidentalPairer.h"
#include "tpcml/pairing/EventSchema.h"
#include "tpcml/pairing/PairFile.h"
#include "tpcml/imaging/RasterFiles.h"
#include "tpcml/imaging/TrackRasteriser.h"
#include "tpcml/onnx/Model.h"
#include "tpcml/onnx/Scorer.h"
#include "tpcml/anomaly/AnomalyScore.h"

#endif // TPCML_TPCML_H

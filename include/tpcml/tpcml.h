// tpcml -- umbrella header: every public tpcml class, for macros and PyROOT.
//
//   gInterpreter->Declare("#include \"tpcml/tpcml.h\"");   // or #include it in a macro
#ifndef TPCML_TPCML_H
#define TPCML_TPCML_H

#include "tpcml/AccidentalPairer.h"
#include "tpcml/AtomicFile.h"
#include "tpcml/DetectorConfig.h"
#include "tpcml/DriftCorrection.h"
#include "tpcml/Error.h"
#include "tpcml/LXeOptics.h"
#include "tpcml/LXeResponse.h"
#include "tpcml/NRMedian.h"
#include "tpcml/PositionCorrections.h"
#include "tpcml/RootIO.h"
#include "tpcml/Strings.h"
#include "tpcml/TrackRasteriser.h"
#include "tpcml/Units.h"
#include "tpcml/Version.h"
#include "tpcml/onnx/Model.h"
#include "tpcml/onnx/Scorer.h"

#endif // TPCML_TPCML_H

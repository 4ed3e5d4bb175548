// ROOT dictionary selection for libtpcml (used by rootcling only).
#ifdef __CLING__
#pragma link off all globals;
#pragma link off all classes;
#pragma link off all functions;
#pragma link C++ nestedclasses;

#pragma link C++ namespace tpcml;
#pragma link C++ class tpcml::DetectorParameter + ;
#pragma link C++ class tpcml::DetectorConfig;
#pragma link C++ class tpcml::ElectronLifetimeCorrection;
#pragma link C++ class tpcml::DriftDepth;
#pragma link C++ class tpcml::ColumnInfo + ;
#pragma link C++ class tpcml::TreeSummary + ;
#pragma link C++ class tpcml::AtomicOutput;
#pragma link C++ class tpcml::PmtArray + ;
#pragma link C++ class tpcml::LXeOptics;
#pragma link C++ class tpcml::RegularGrid + ;
#pragma link C++ class tpcml::PositionCorrections;
#pragma link C++ class tpcml::S1Batch + ;
#pragma link C++ class tpcml::S2Batch + ;
#pragma link C++ class tpcml::LXeResponse;
#pragma link C++ class tpcml::NRMedianCurve;
#pragma link C++ class tpcml::IsolatedS1Table + ;
#pragma link C++ class tpcml::IsolatedS2Table + ;
#pragma link C++ class tpcml::PairedEvent + ;
#pragma link C++ class tpcml::PairedColumns + ;
#pragma link C++ class tpcml::AccidentalPairer;
#pragma link C++ class tpcml::AccidentalPairer::Options + ;
#pragma link C++ namespace tpcml::onnx;
#pragma link C++ class tpcml::onnx::TensorInfo + ;
#pragma link C++ class tpcml::onnx::Model - ;
#pragma link C++ class tpcml::onnx::Session - ;
#pragma link C++ function tpcml::onnx::supportedOperators;
#pragma link C++ function tpcml::hexPmtArray;
#pragma link C++ function tpcml::accidentalCount;
#pragma link C++ enum tpcml::Dimension;
#pragma link C++ function tpcml::version;
#pragma link C++ function tpcml::rootVersion;
#pragma link C++ function tpcml::compilerVersion;
#pragma link C++ function tpcml::libraryDirectory;
#pragma link C++ function tpcml::listTrees;
#pragma link C++ function tpcml::describeTree;
#pragma link C++ function tpcml::requireColumns;
#pragma link C++ function tpcml::dimensionName;
#pragma link C++ function tpcml::acceptedUnits;
#pragma link C++ function tpcml::unitFactor;
#endif

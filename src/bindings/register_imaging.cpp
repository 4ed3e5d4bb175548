// tpcml._core.TrackRasteriser, HitPeakImager, EventVector and AnomalyScore -- the image, vector and anomaly-score
// kernels for numpy batches (the same tpcml::TrackRasteriser::rasterise / HitPeakImager::render /
// EventVectorBuilder::build / AnomalyScore::parts the RDataFrame functors and executables call).
#include "register.h"

#include "tpcml/anomaly/AnomalyScore.h"
#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/DetectorConfig.h"
#include "tpcml/imaging/EventVector.h"
#include "tpcml/imaging/HitPeak.h"
#include "tpcml/imaging/TrackRasteriser.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace py = pybind11;

namespace tpcml::bindings {

namespace {
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using IntArray = py::array_t<int, py::array::c_style | py::array::forcecast>;
using OffsetArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

std::string shapeOf(const py::array &a)
{
   std::string s = "(";
   for (py::ssize_t d = 0; d < a.ndim(); ++d)
      s += (d ? ", " : "") + std::to_string(a.shape(d));
   return s + (a.ndim() == 1 ? ",)" : ")");
}

/// The images' array: the caller's `out` (checked, never converted: a converted copy would be filled while `out`
/// stays as it was; reused across calls it has no new memory to fault in), or a new array of `shape` after the
/// memory check.
py::array_t<float> imageBuffer(const py::object &out, const std::vector<py::ssize_t> &shape, const std::string &what)
{
   py::ssize_t values = 1;
   for (const py::ssize_t d : shape)
      values *= d;
   if (!out.is_none()) {
      if (!py::array_t<float, py::array::c_style>::check_(out) || !py::cast<py::array>(out).writeable() ||
          py::cast<py::array>(out).size() != values)
         throw std::invalid_argument("out must be a writeable C-contiguous float32 array of " + std::to_string(values) +
                                     " values");
      return py::reinterpret_borrow<py::array_t<float>>(out);
   }
   requireMemory(double(values) * sizeof(float), what);
   return py::array_t<float>(shape);
}
} // namespace

void registerImaging(py::module_ &m)
{
   py::class_<RasterOptions>(m, "RasterOptions", "Options of tpcml::TrackRasteriser (P3-CNN Sec. 3.2).")
       .def(py::init<>())
       .def_readwrite("pixels", &RasterOptions::pixels)
       .def_readwrite("pixel_size", &RasterOptions::pixelSize)
       .def_readwrite("drift_velocity", &RasterOptions::driftVelocity)
       .def_readwrite("upscale", &RasterOptions::upscale)
       .def_readwrite("channels_first", &RasterOptions::channelsFirst)
       .def_static("from_detector", &RasterOptions::fromDetector, py::arg("detector"), py::arg("upscale") = 1,
                   py::arg("channels_first") = false);

   py::class_<TrackRasteriser>(m, "TrackRasteriser",
                               "XZ/YZ track images of strip hits (tpcml::TrackRasteriser, P3-CNN Sec. 3.2).")
       .def(py::init<const RasterOptions &>(), py::arg_v("options", RasterOptions{}, "RasterOptions()"))
       .def(py::init([](int pixels, double pixelSize, double driftVelocity, int upscale, bool channelsFirst) {
               return TrackRasteriser(RasterOptions{pixels, pixelSize, driftVelocity, upscale, channelsFirst});
            }),
            py::arg("pixels"), py::arg("pixel_size"), py::arg("drift_velocity"), py::arg("upscale") = 1,
            py::arg("channels_first") = false)
       .def_property_readonly("side", &TrackRasteriser::side)
       .def_property_readonly("options", &TrackRasteriser::options)
       .def(
           "batch",
           [](const TrackRasteriser &r, const IntArray &plane, const FloatArray &strip, const FloatArray &time,
              const FloatArray &charge, const OffsetArray &offsets, long long threads, const py::object &out) {
              if (threads < 0 || threads > 1024)
                 throw std::invalid_argument("threads must be in [0, 1024] (0: all cores), got " +
                                             std::to_string(threads));
              const auto n = plane.size();
              if (plane.ndim() != 1 || strip.ndim() != 1 || time.ndim() != 1 || charge.ndim() != 1 ||
                  strip.size() != n || time.size() != n || charge.size() != n)
                 throw std::invalid_argument("plane, strip, time and charge must be 1-D arrays of one length, got " +
                                             std::to_string(n) + ", " + std::to_string(strip.size()) + ", " +
                                             std::to_string(time.size()) + ", " + std::to_string(charge.size()));
              if (offsets.ndim() != 1 || offsets.size() < 1)
                 throw std::invalid_argument("offsets must be a 1-D array of n_events + 1 entries");
              const auto nEvents = std::size_t(offsets.size() - 1);
              const int64_t *off = offsets.data();
              if (off[nEvents] > n)
                 throw std::invalid_argument("offsets end at " + std::to_string(off[nEvents]) + " but there are " +
                                             std::to_string(n) + " hits");
              const auto side = py::ssize_t(r.side());
              py::array_t<float> images =
                  imageBuffer(out,
                              r.options().channelsFirst
                                  ? std::vector<py::ssize_t>{py::ssize_t(nEvents), py::ssize_t(3), side, side}
                                  : std::vector<py::ssize_t>{py::ssize_t(nEvents), side, side, py::ssize_t(3)},
                              "the images of " + std::to_string(nEvents) + " events (offsets)");
              py::array_t<uint32_t> outside{py::ssize_t(nEvents)};
              float *img = images.mutable_data();
              uint32_t *outsideData = outside.mutable_data();
              {
                 ReleaseGil release;
                 r.batch(plane.data(), strip.data(), time.data(), charge.data(), off, nEvents, img, outsideData,
                         unsigned(threads));
              }
              return py::make_tuple(images, outside);
           },
           py::arg("plane"), py::arg("strip"), py::arg("time"), py::arg("charge"), py::arg("offsets"),
           py::arg("threads") = 1, py::arg("out") = py::none(),
           "Images of events whose hits are [offsets[e], offsets[e+1]) of the flat arrays: returns (images (N, H, W, "
           "3) or (N, 3, H, W) float32, hits outside the window (N,) uint32); `out`: an existing float32 array to "
           "write "
           "the images into (it is returned). GIL released.");
   m.attr("HITPEAK_COLUMNS") = py::tuple(py::cast(hitPeakColumns()));
   py::class_<HitPeakImager>(m, "HitPeakImager",
                             "Hit / Peak / HitPeak images of LXe TPC events (tpcml::HitPeakImager, X1T-CNN Sec. III).")
       .def(py::init([](const DetectorConfig &detector, const std::string &kind, int width, int height, int samples,
                        bool channelsFirst) {
               HitPeakOptions o;
               o.kind = parseHitPeakKind(kind);
               o.width = width;
               o.height = height;
               o.samples = samples;
               o.channelsFirst = channelsFirst;
               return HitPeakImager(detector, o);
            }),
            py::arg("detector"), py::arg("kind") = "hitpeak", py::arg("width") = 0, py::arg("height") = 0,
            py::arg("samples") = 200, py::arg("channels_first") = false,
            "kind: hit, peak, hitpeak or raw; width/height 0: the paper's (HitPeak 75 x 75, Hit and Peak 100 x 50).")
       .def_property_readonly("kind", [](const HitPeakImager &h) { return hitPeakKindName(h.options().kind); })
       .def_property_readonly("width", &HitPeakImager::width)
       .def_property_readonly("height", &HitPeakImager::height)
       .def_property_readonly("n_pmt", &HitPeakImager::nPmt)
       .def_property_readonly("samples", [](const HitPeakImager &h) { return h.options().samples; })
       .def_property_readonly("image_size", &HitPeakImager::imageSize)
       .def(
           "batch",
           [](const HitPeakImager &h, const FloatArray &s1Pmt, const FloatArray &s2Pmt, const FloatArray &s1Wave,
              const FloatArray &s1Top, const FloatArray &s1Bottom, const FloatArray &s2Wave, const FloatArray &s2Top,
              const FloatArray &s2Bottom, long long threads, const py::object &out) {
              if (threads < 0 || threads > 1024)
                 throw std::invalid_argument("threads must be in [0, 1024] (0: all cores), got " +
                                             std::to_string(threads));
              const py::ssize_t n = s1Pmt.ndim() == 2 ? s1Pmt.shape(0) : -1;
              const FloatArray *in[8] = {&s1Pmt, &s2Pmt, &s1Wave, &s1Top, &s1Bottom, &s2Wave, &s2Top, &s2Bottom};
              for (std::size_t k = 0; k < 8; ++k) {
                 const auto want = py::ssize_t(k < 2 ? h.nPmt() : std::size_t(h.options().samples));
                 const FloatArray &a = *in[k];
                 if (a.ndim() != 2 || a.shape(0) != n || a.shape(1) != want)
                    throw std::invalid_argument(hitPeakColumns()[k] + " must be a 2-D array (n_events, " +
                                                std::to_string(want) + ") with the n_events of s1_pmt_area; got " +
                                                shapeOf(a));
              }
              const std::vector<py::ssize_t> shape =
                  h.options().kind == HitPeakKind::kRaw ? std::vector<py::ssize_t>{n, py::ssize_t(h.imageSize())}
                  : h.options().channelsFirst
                      ? std::vector<py::ssize_t>{n, py::ssize_t(3), py::ssize_t(h.height()), py::ssize_t(h.width())}
                      : std::vector<py::ssize_t>{n, py::ssize_t(h.height()), py::ssize_t(h.width()), py::ssize_t(3)};
              py::array_t<float> images = imageBuffer(out, shape, "the images of " + std::to_string(n) + " events");
              float *dst = images.mutable_data();
              {
                 ReleaseGil release;
                 h.batch(s1Pmt.data(), s2Pmt.data(), {s1Wave.data(), s1Top.data(), s1Bottom.data()},
                         {s2Wave.data(), s2Top.data(), s2Bottom.data()}, std::size_t(n), dst, unsigned(threads));
              }
              return images;
           },
           py::arg("s1_pmt_area"), py::arg("s2_pmt_area"), py::arg("s1_waveform"), py::arg("s1_waveform_top"),
           py::arg("s1_waveform_bottom"), py::arg("s2_waveform"), py::arg("s2_waveform_top"),
           py::arg("s2_waveform_bottom"), py::arg("threads") = 1, py::arg("out") = py::none(),
           "Images of N events from the events-tree arrays ((N, n_pmt) areas, (N, samples) waveforms): (N, H, W, 3) "
           "float32 in [0, 1] ((N, 3, H, W) with channels_first; (N, 2 n_pmt + 6 samples) in raw mode); `out`: an "
           "existing float32 array to write the images into (it is returned). GIL released.");
   m.attr("EVENT_VECTOR_COLUMNS") = py::tuple(py::cast(eventVectorColumns()));
   py::class_<EventVectorBuilder>(m, "EventVector",
                                  "DARWIN-VAE event vector [S1 total waveform, S2 total waveform, S2 top and bottom "
                                  "hit patterns] (tpcml::EventVectorBuilder, DARWIN-VAE Sec. 3.3).")
       .def(py::init([](const DetectorConfig &detector, int samples, const std::string &norm) {
               return EventVectorBuilder(detector, EventVectorOptions{samples, parseEventVectorNorm(norm)});
            }),
            py::arg("detector"), py::arg("samples") = 200, py::arg("norm") = "log1p",
            "norm: log1p (sign(x) log(1 + |x|) of PE, the default) or none (PE).")
       .def(py::init([](std::size_t nTop, std::size_t nBottom, int samples, const std::string &norm) {
               return EventVectorBuilder(nTop, nBottom, EventVectorOptions{samples, parseEventVectorNorm(norm)});
            }),
            py::arg("n_top"), py::arg("n_bottom"), py::arg("samples") = 200, py::arg("norm") = "log1p")
       .def_property_readonly("norm", [](const EventVectorBuilder &b) { return eventVectorNormName(b.options().norm); })
       .def_property_readonly("samples", [](const EventVectorBuilder &b) { return b.options().samples; })
       .def_property_readonly("n_top", &EventVectorBuilder::nTop)
       .def_property_readonly("n_bottom", &EventVectorBuilder::nBottom)
       .def_property_readonly("size", &EventVectorBuilder::size)
       .def(
           "batch",
           [](const EventVectorBuilder &b, const FloatArray &s1Wave, const FloatArray &s2Wave, const FloatArray &s2Pmt,
              long long threads) {
              if (threads < 0 || threads > 1024)
                 throw std::invalid_argument("threads must be in [0, 1024] (0: all cores), got " +
                                             std::to_string(threads));
              const py::ssize_t n = s1Wave.ndim() == 2 ? s1Wave.shape(0) : -1;
              const FloatArray *in[3] = {&s1Wave, &s2Wave, &s2Pmt};
              for (std::size_t k = 0; k < 3; ++k) {
                 const auto want = py::ssize_t(k < 2 ? std::size_t(b.options().samples) : b.nPmt());
                 if (in[k]->ndim() != 2 || in[k]->shape(0) != n || in[k]->shape(1) != want)
                    throw std::invalid_argument(eventVectorColumns()[k] + " must be a 2-D array (n_events, " +
                                                std::to_string(want) + ") with the n_events of s1_waveform; got " +
                                                shapeOf(*in[k]));
              }
              requireMemory(double(n) * double(b.size()) * sizeof(float),
                            "the event vectors of " + std::to_string(n) + " events");
              py::array_t<float> out({n, py::ssize_t(b.size())});
              float *o = out.mutable_data();
              {
                 ReleaseGil release;
                 b.batch(s1Wave.data(), s2Wave.data(), s2Pmt.data(), std::size_t(n), o, unsigned(threads));
              }
              return out;
           },
           py::arg("s1_waveform"), py::arg("s2_waveform"), py::arg("s2_pmt_area"), py::arg("threads") = 1,
           "Event vectors of N events ((N, samples) waveforms, (N, n_pmt) S2 areas): (N, 2 samples + n_pmt) float32. "
           "GIL released.");
   py::class_<AnomalyScore>(m, "AnomalyScore",
                            "DARWIN-VAE anomaly score TS = beta KL - log N(x; x_D, sigma_D) + R H_B of event vectors, "
                            "from the exported encoder, decoder and classifier graphs on tpcml's ONNX engine "
                            "(tpcml::AnomalyScore, DARWIN-VAE Sec. 3.2; mean-latent plug-in).")
       .def(py::init<const std::string &, const std::string &, const std::string &, double>(), py::arg("encoder"),
            py::arg("decoder"), py::arg("classifier"), py::arg("R") = 0.)
       .def_property_readonly("beta", &AnomalyScore::beta)
       .def_property_readonly("R", &AnomalyScore::R)
       .def_property_readonly("event_size", &AnomalyScore::eventSize)
       .def_property_readonly("latent_size", &AnomalyScore::latentSize)
       .def("with_R", &AnomalyScore::withR, py::arg("R"), "The same graphs and sessions with another R.")
       .def(
           "score",
           [](const AnomalyScore &a, const FloatArray &x, long long threads, bool parts) -> py::array {
              if (threads < 0 || threads > 1024)
                 throw std::invalid_argument("threads must be in [0, 1024] (0: all cores), got " +
                                             std::to_string(threads));
              if (x.ndim() != 2 || x.shape(1) != py::ssize_t(a.eventSize()))
                 throw std::invalid_argument("x must be a 2-D array (n_events, " + std::to_string(a.eventSize()) +
                                             ") of event vectors; got " + shapeOf(x));
              const py::ssize_t n = x.shape(0);
              py::array_t<double> out =
                  parts ? py::array_t<double>({n, py::ssize_t(AnomalyScore::kParts)}) : py::array_t<double>(n);
              double *o = out.mutable_data();
              {
                 ReleaseGil release;
                 a.batch(x.data(), std::size_t(n), parts ? nullptr : o, parts ? o : nullptr, unsigned(threads));
              }
              return std::move(out);
           },
           py::arg("x"), py::arg("threads") = 1, py::arg("parts") = false,
           "TS of N event vectors ((N, event_size) float32): (N,) float64; with parts, (N, 3) {KL, -log N, H_B}. "
           "GIL released.");
}

} // namespace tpcml::bindings

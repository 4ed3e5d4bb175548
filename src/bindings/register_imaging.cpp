// tpcml._core.TrackRasteriser -- the track-to-image kernel for numpy batches (the same
// tpcml::TrackRasteriser::rasterise the RDataFrame functor and tpcml-raster call).
#include "register.h"

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/DetectorConfig.h"
#include "tpcml/imaging/TrackRasteriser.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <stdexcept>

namespace py = pybind11;

namespace tpcml::bindings {

namespace {
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using IntArray = py::array_t<int, py::array::c_style | py::array::forcecast>;
using OffsetArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;
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
              py::array_t<float> images;
              if (!out.is_none()) { // caller's buffer (reused across calls: no new memory to fault in)
                 // checked, never converted: a converted copy would be filled while `out` stays as it was
                 if (!py::array_t<float, py::array::c_style>::check_(out) || !py::cast<py::array>(out).writeable() ||
                     py::cast<py::array>(out).size() != py::ssize_t(nEvents * r.imageSize()))
                    throw std::invalid_argument("out must be a writeable C-contiguous float32 array of " +
                                                std::to_string(nEvents * r.imageSize()) + " values");
                 images = py::reinterpret_borrow<py::array_t<float>>(out);
              } else {
                 requireMemory(double(nEvents) * double(r.imageSize()) * sizeof(float),
                               "the images of " + std::to_string(nEvents) + " events (offsets)");
                 images = r.options().channelsFirst
                              ? py::array_t<float>({py::ssize_t(nEvents), py::ssize_t(3), side, side})
                              : py::array_t<float>({py::ssize_t(nEvents), side, side, py::ssize_t(3)});
              }
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
}

} // namespace tpcml::bindings

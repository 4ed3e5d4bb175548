# Type stubs of tpcml._core (the private pybind11 module): written by scripts/write_stubs.py
# (pybind11-stubgen) from the built module; do not edit by hand, run `make stubs`.
"""
tpcml private compiled module (use the public tpcml package instead)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['AccidentalPairer', 'AnomalyScore', 'AtomicOutput', 'ConfigError', 'DetectorConfig', 'DetectorParameter', 'DriftDepth', 'EVENT_COLUMNS', 'EVENT_DTYPES', 'EVENT_VECTOR_COLUMNS', 'ElectronLifetimeCorrection', 'Error', 'EventVector', 'FEATURES', 'HITPEAK_COLUMNS', 'HitPeakImager', 'InputError', 'LXeEventSimulator', 'LXeOptics', 'LXeResponse', 'NRMedianCurve', 'OnnxModel', 'PositionCorrections', 'RasterOptions', 'RegularGrid', 'S1_COLUMNS', 'S2_COLUMNS', 'ScintillationTiming', 'TrackRasteriser', 'UsageError', 'WaveformParams', 'WaveformSimulator', 'accepted_units', 'accidental_count', 'available_memory', 'check_detector', 'compiler_version', 'describe_tree', 'dimension_names', 'hex_pmt_array', 'isolated_rates', 'library_directory', 'list_trees', 'model_json', 'onnx_benchmark', 'onnx_ir_versions', 'onnx_isa', 'onnx_newest_opset', 'onnx_schema_table', 'onnx_supported_operators', 'pair_file', 'provenance_json', 'provenance_keys', 'read_detector', 'read_parameter', 'read_pmt_table', 'require_columns', 'require_distinct_output', 'root_version', 'score_files', 'sha256_file', 'unit_factor', 'version', 'write_output_metadata', 'write_tree_file']
class Error(RuntimeError):
    """
    Base of every tpcml error.
    """
class ConfigError(Error, ValueError):
    """
    An invalid detector configuration or registry entry.
    """
class InputError(Error, OSError):
    """
    An input that cannot be read or does not fit.
    """
class UsageError(Error, ValueError):
    """
    An invalid argument or call sequence.
    """
class DetectorParameter:
    @property
    def canonical_unit(self) -> str:
        ...
    @property
    def dimension(self) -> str:
        ...
    @property
    def is_array(self) -> bool:
        ...
    @property
    def key(self) -> str:
        ...
    @property
    def source(self) -> str:
        ...
    @property
    def unit(self) -> str:
        ...
    @property
    def value(self) -> typing.Any:
        ...
class DetectorConfig:
    @staticmethod
    def available() -> list[str]:
        ...
    @staticmethod
    def from_file(path: str, schema: str = '', run: str = '') -> DetectorConfig:
        ...
    @staticmethod
    def load(name_or_path: str) -> DetectorConfig:
        ...
    @staticmethod
    def registry_directory() -> str:
        ...
    @typing.overload
    def get(self, key: str) -> float:
        ...
    @typing.overload
    def get(self, key: str, unit: str) -> float:
        ...
    def get_array(self, key: str) -> list[float]:
        ...
    def get_bool(self, key: str) -> bool:
        ...
    def get_int(self, key: str) -> int:
        ...
    def get_string(self, key: str) -> str:
        ...
    def has(self, key: str) -> bool:
        ...
    def keys(self) -> list[str]:
        ...
    def parameter(self, key: str) -> DetectorParameter:
        ...
    @property
    def file(self) -> str:
        ...
    @property
    def kind(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def references(self) -> list[str]:
        ...
    @property
    def run(self) -> str:
        ...
    @property
    def runs(self) -> list[str]:
        ...
    @property
    def title(self) -> str:
        ...
class AtomicOutput:
    def __init__(self, final_path: str) -> None:
        ...
    def commit(self) -> None:
        ...
    def discard(self) -> None:
        ...
    @property
    def committed(self) -> bool:
        ...
    @property
    def final_path(self) -> str:
        ...
    @property
    def temp_path(self) -> str:
        ...
class ElectronLifetimeCorrection:
    @staticmethod
    @typing.overload
    def from_detector(detector: DetectorConfig) -> ElectronLifetimeCorrection:
        ...
    @staticmethod
    @typing.overload
    def from_detector(detector: str) -> ElectronLifetimeCorrection:
        ...
    def __call__(self, qS2: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], drift_time_us: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> numpy.typing.NDArray[numpy.float32]:
        """
        Vectorised qS2 * exp(t / tau) (float32)
        """
    def __init__(self, lifetime_us: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    def survival_probability(self, drift_time_us: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> typing.Any:
        """
        exp(-t / tau): the fraction of electrons surviving a drift time t (us); scalar or array
        """
    @property
    def lifetime(self) -> float:
        ...
class DriftDepth:
    @staticmethod
    def from_detector(detector: DetectorConfig) -> DriftDepth:
        ...
    def __call__(self, drift_time_us: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> numpy.typing.NDArray[numpy.float32]:
        ...
    def __init__(self, drift_velocity_mm_per_us: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def drift_velocity(self) -> float:
        ...
class LXeOptics:
    @staticmethod
    def disc_solid_angle(radius: typing.SupportsFloat | typing.SupportsIndex, distance: typing.SupportsFloat | typing.SupportsIndex, cos_incidence: typing.SupportsFloat | typing.SupportsIndex) -> float:
        ...
    @staticmethod
    def fresnel_transmission(n1: typing.SupportsFloat | typing.SupportsIndex, n2: typing.SupportsFloat | typing.SupportsIndex, cos_incidence: typing.SupportsFloat | typing.SupportsIndex) -> float:
        ...
    def __init__(self, detector: DetectorConfig) -> None:
        ...
    def s1_collection(self, x: typing.SupportsFloat | typing.SupportsIndex, y: typing.SupportsFloat | typing.SupportsIndex, z: typing.SupportsFloat | typing.SupportsIndex) -> list[float]:
        """
        per-PMT detection probabilities of an S1 photon (top first)
        """
    def s1_light_yield_correction(self, r: typing.SupportsFloat | typing.SupportsIndex, z: typing.SupportsFloat | typing.SupportsIndex) -> float:
        """
        factor on the model's S1 collection at (r, z) from the detector's s1_light_yield_map (1 without one)
        """
    def s1_map(self, r: typing.SupportsFloat | typing.SupportsIndex, z: typing.SupportsFloat | typing.SupportsIndex) -> tuple[float, float]:
        """
        (top, bottom): probability that an S1 photon from (r, z) reaches each array (the cached light map)
        """
    def s2_collection(self, x: typing.SupportsFloat | typing.SupportsIndex, y: typing.SupportsFloat | typing.SupportsIndex) -> list[float]:
        """
        per-PMT collection of S2 light from (x, y), top array scaled to s2_area_fraction_top
        """
    @property
    def bottom_xy(self) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
        ...
    @property
    def bottom_z(self) -> float:
        ...
    @property
    def has_s1_light_yield_map(self) -> bool:
        ...
    @property
    def n_bottom(self) -> int:
        ...
    @property
    def n_top(self) -> int:
        ...
    @property
    def s2_top_scale(self) -> float:
        ...
    @property
    def top_xy(self) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
        ...
    @property
    def top_z(self) -> float:
        ...
class RegularGrid:
    def __init__(self, x_range: tuple[typing.SupportsFloat | typing.SupportsIndex, typing.SupportsFloat | typing.SupportsIndex], y_range: tuple[typing.SupportsFloat | typing.SupportsIndex, typing.SupportsFloat | typing.SupportsIndex], z_range: tuple[typing.SupportsFloat | typing.SupportsIndex, typing.SupportsFloat | typing.SupportsIndex], values: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> None:
        ...
    def eval(self, x: typing.SupportsFloat | typing.SupportsIndex, y: typing.SupportsFloat | typing.SupportsIndex, z: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> float:
        ...
    @property
    def values(self) -> numpy.typing.NDArray[numpy.float32]:
        ...
class PositionCorrections:
    @typing.overload
    def __init__(self, detector: DetectorConfig) -> None:
        ...
    @typing.overload
    def __init__(self, s1_map: RegularGrid, s2_map: RegularGrid, lifetime_us: typing.SupportsFloat | typing.SupportsIndex, drift_velocity_mm_per_us: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    def apply(self, qS1: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], qS2: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], drift_time: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], x: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], y: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> dict:
        """
        z, qS1c and qS2c of events (dict of float32 arrays)
        """
    def s1_relative(self, x: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], y: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], z: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> numpy.typing.NDArray[numpy.float64]:
        """
        relative S1 light collection (mean 1 over the FV)
        """
    def s2_relative(self, x: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], y: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> numpy.typing.NDArray[numpy.float64]:
        """
        relative S2 gain (mean 1 over the FV)
        """
    @property
    def drift_velocity(self) -> float:
        ...
    @property
    def lifetime(self) -> float:
        ...
    @property
    def s1_map(self) -> RegularGrid:
        ...
    @property
    def s2_map(self) -> RegularGrid:
        ...
class LXeResponse:
    def __init__(self, detector: DetectorConfig) -> None:
        ...
    def dark_noise_s1(self, n_pmts: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], seed: typing.SupportsInt | typing.SupportsIndex, threads: typing.SupportsInt | typing.SupportsIndex = 1, pmt_areas: bool = False) -> dict:
        ...
    def drifted_s2(self, x: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], y: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], drift_time: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], n_electrons: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], seed: typing.SupportsInt | typing.SupportsIndex, threads: typing.SupportsInt | typing.SupportsIndex = 1, pmt_areas: bool = False) -> dict:
        ...
    def electron_train_s1(self, x: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], y: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], n_electrons: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], span_us: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, threads: typing.SupportsInt | typing.SupportsIndex = 1, pmt_areas: bool = False) -> dict:
        """
        The same trains' light through the S1 digitisation and classification (found: taken for an S1)
        """
    def electron_train_s2(self, x: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], y: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], n_electrons: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], span_us: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, threads: typing.SupportsInt | typing.SupportsIndex = 1, pmt_areas: bool = False) -> dict:
        """
        S2s of single-electron trains: n_electrons arrivals uniform over [0, span_us] at the surface
        """
    def scintillation_s1(self, x: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], y: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], z: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], n_photons: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], singlet_fraction: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], seed: typing.SupportsInt | typing.SupportsIndex, threads: typing.SupportsInt | typing.SupportsIndex = 1, pmt_areas: bool = False) -> dict:
        ...
    def single_electron_s1(self, x: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], y: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], seed: typing.SupportsInt | typing.SupportsIndex, threads: typing.SupportsInt | typing.SupportsIndex = 1, pmt_areas: bool = False) -> dict:
        ...
    @property
    def corrections(self) -> PositionCorrections:
        ...
    @property
    def n_pmt(self) -> int:
        ...
    @property
    def optics(self) -> LXeOptics:
        ...
class NRMedianCurve:
    @staticmethod
    def fit(qS1c: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], qS2c: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], s1_min: typing.SupportsFloat | typing.SupportsIndex, s1_max: typing.SupportsFloat | typing.SupportsIndex, n_bins: typing.SupportsInt | typing.SupportsIndex = 20, n_knots: typing.SupportsInt | typing.SupportsIndex = 64) -> NRMedianCurve:
        ...
    @staticmethod
    def from_file(file: str, key: str = 'tpcml_nr_median') -> NRMedianCurve:
        ...
    def __call__(self, qS1c: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> numpy.typing.NDArray[numpy.float64]:
        ...
    def __init__(self, qS1c: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], median: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex]) -> None:
        ...
    def below(self, qS1c: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], qS2c: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> numpy.typing.NDArray[numpy.bool]:
        ...
    def write_to(self, file: str, key: str = 'tpcml_nr_median') -> None:
        ...
    @property
    def bin_x(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
    @property
    def bin_y(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
    @property
    def knots_x(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
    @property
    def knots_y(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
class WaveformParams:
    """
    Pulse-simulation and peak-finder parameters (defaults and sources: tpcml/lxe/Waveform.h)
    """
    @staticmethod
    def from_detector(detector: DetectorConfig) -> WaveformParams:
        ...
    def __init__(self) -> None:
        ...
    def validate(self) -> None:
        ...
    @property
    def adc_to_electrons(self) -> float:
        ...
    @adc_to_electrons.setter
    def adc_to_electrons(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def baseline_noise(self) -> float:
        ...
    @baseline_noise.setter
    def baseline_noise(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def digitizer_bits(self) -> int:
        ...
    @digitizer_bits.setter
    def digitizer_bits(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def gain(self) -> float:
        ...
    @gain.setter
    def gain(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def gap_threshold(self) -> float:
        ...
    @gap_threshold.setter
    def gap_threshold(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def hit_threshold(self) -> float:
        ...
    @hit_threshold.setter
    def hit_threshold(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def left_extension(self) -> float:
        ...
    @left_extension.setter
    def left_extension(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def p_dpe(self) -> float:
        ...
    @p_dpe.setter
    def p_dpe(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def reference_baseline(self) -> int:
        ...
    @reference_baseline.setter
    def reference_baseline(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def right_extension(self) -> float:
        ...
    @right_extension.setter
    def right_extension(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def s1_coincidence_level(self) -> int:
        ...
    @s1_coincidence_level.setter
    def s1_coincidence_level(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def s1_large_area(self) -> float:
        ...
    @s1_large_area.setter
    def s1_large_area(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def s1_max_rise_time(self) -> float:
        ...
    @s1_max_rise_time.setter
    def s1_max_rise_time(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def s1_max_rise_time_large(self) -> float:
        ...
    @s1_max_rise_time_large.setter
    def s1_max_rise_time_large(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def s2_min_channels(self) -> int:
        ...
    @s2_min_channels.setter
    def s2_min_channels(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def sampling_period(self) -> float:
        ...
    @sampling_period.setter
    def sampling_period(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def spe_resolution(self) -> float:
        ...
    @spe_resolution.setter
    def spe_resolution(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def spe_template(self) -> numpy.typing.NDArray[numpy.float64]:
        """
        single-PE current per bin (normalised by the simulator)
        """
    @spe_template.setter
    def spe_template(self, arg1: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex]) -> None:
        ...
    @property
    def spe_template_step(self) -> float:
        """
        ns per template bin
        """
    @spe_template_step.setter
    def spe_template_step(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def spe_template_t0(self) -> float:
        """
        ns, start of the first template bin
        """
    @spe_template_t0.setter
    def spe_template_t0(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def tight_coincidence_window(self) -> float:
        ...
    @tight_coincidence_window.setter
    def tight_coincidence_window(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def time_rounding(self) -> float:
        ...
    @time_rounding.setter
    def time_rounding(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def transit_time_spread_fwhm(self) -> float:
        ...
    @transit_time_spread_fwhm.setter
    def transit_time_spread_fwhm(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def zle_post_samples(self) -> int:
        ...
    @zle_post_samples.setter
    def zle_post_samples(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def zle_pre_samples(self) -> int:
        ...
    @zle_pre_samples.setter
    def zle_pre_samples(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def zle_threshold(self) -> float:
        ...
    @zle_threshold.setter
    def zle_threshold(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class WaveformSimulator:
    """
    Digitised PMT waveforms, ZLE, summed waveforms and peaks of one S1 or S2
    """
    @typing.overload
    def __init__(self, n_top: typing.SupportsInt | typing.SupportsIndex, n_bottom: typing.SupportsInt | typing.SupportsIndex, params: WaveformParams = ...) -> None:
        ...
    @typing.overload
    def __init__(self, detector: DetectorConfig) -> None:
        ...
    def simulate(self, channel: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], time: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], seed: typing.SupportsInt | typing.SupportsIndex, index: typing.SupportsInt | typing.SupportsIndex = 0, dense: bool = False, mode: str = 'channels') -> dict:
        """
        one signal: detected photons (channel, time ns); random stream (seed, index); mode 'channels' (every channel digitised) or 'summed' (fast path for S2s, no per-channel pulses)
        """
    def simulate_batch(self, channel: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], time: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], offsets: typing.Annotated[numpy.typing.ArrayLike, numpy.int64], seed: typing.SupportsInt | typing.SupportsIndex, threads: typing.SupportsInt | typing.SupportsIndex = 1, dense: bool = False, mode: str = 'channels') -> list:
        """
        signal i: photons offsets[i]:offsets[i+1], stream (seed, i)
        """
    def simulate_electroluminescence(self, electron_time: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], photons_per_electron: typing.SupportsFloat | typing.SupportsIndex, el_time: typing.SupportsFloat | typing.SupportsIndex, channel_prob: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], seed: typing.SupportsInt | typing.SupportsIndex, index: typing.SupportsInt | typing.SupportsIndex = 0, path: str = 'binned', dense: bool = False) -> dict:
        """
        S2 of electrons reaching the surface at electron_time (ns): Poisson(photons_per_electron) photons each, uniform over el_time ns, channels by channel_prob; path 'binned' (fast), 'photons' or 'photons_channels'
        """
    @property
    def adc_per_pe(self) -> float:
        ...
    @property
    def n_channels(self) -> int:
        ...
    @property
    def n_top(self) -> int:
        ...
    @property
    def params(self) -> WaveformParams:
        ...
class ScintillationTiming:
    """
    ER/NR singlet/triplet emission times of LXe (LUX / NEST v2: tpcml/lxe/Waveform.h)
    """
    def __init__(self) -> None:
        ...
    def emission_times(self, is_nr: bool, energy_kev: typing.SupportsFloat | typing.SupportsIndex, field_v_per_cm: typing.SupportsFloat | typing.SupportsIndex, n_excitons: typing.SupportsInt | typing.SupportsIndex, n_recombined: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, index: typing.SupportsInt | typing.SupportsIndex = 0) -> numpy.typing.NDArray[numpy.float32]:
        """
        emission times (ns) of n_excitons exciton photons then n_recombined recombination photons
        """
    def recombination_time(self, energy_kev: typing.SupportsFloat | typing.SupportsIndex, field_v_per_cm: typing.SupportsFloat | typing.SupportsIndex) -> float:
        ...
    def singlet_fraction(self, is_nr: bool, energy_kev: typing.SupportsFloat | typing.SupportsIndex, exciton: bool = True) -> float:
        ...
    def validate(self) -> None:
        ...
    @property
    def er_exciton_ratio_scale(self) -> float:
        ...
    @er_exciton_ratio_scale.setter
    def er_exciton_ratio_scale(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def er_ratio_power(self) -> float:
        ...
    @er_ratio_power.setter
    def er_ratio_power(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def er_recombination_ratio_scale(self) -> float:
        ...
    @er_recombination_ratio_scale.setter
    def er_recombination_ratio_scale(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def max_recombination_time(self) -> float:
        ...
    @max_recombination_time.setter
    def max_recombination_time(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def nr_ratio_power(self) -> float:
        ...
    @nr_ratio_power.setter
    def nr_ratio_power(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def nr_ratio_scale(self) -> float:
        ...
    @nr_ratio_scale.setter
    def nr_ratio_scale(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def recombination_field_coefficient(self) -> float:
        ...
    @recombination_field_coefficient.setter
    def recombination_field_coefficient(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def recombination_time_offset(self) -> float:
        ...
    @recombination_time_offset.setter
    def recombination_time_offset(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def recombination_time_scale(self) -> float:
        ...
    @recombination_time_scale.setter
    def recombination_time_scale(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def recombination_time_slope(self) -> float:
        ...
    @recombination_time_slope.setter
    def recombination_time_slope(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def tau_singlet(self) -> float:
        ...
    @tau_singlet.setter
    def tau_singlet(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def tau_triplet(self) -> float:
        ...
    @tau_triplet.setter
    def tau_triplet(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class LXeEventSimulator:
    """
    Full LXe TPC events: per-PMT S1/S2 areas, peak waveforms, corrected areas, position (tpcml/lxe/LXeEvents.h)
    """
    def __init__(self, detector: DetectorConfig) -> None:
        ...
    def simulate(self, x: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], y: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], z: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], drift_time: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], n_photons: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], n_electrons: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], recoil: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], energy: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], n_excitons: typing.Annotated[numpy.typing.ArrayLike, numpy.int32] | None = None, seed: typing.SupportsInt | typing.SupportsIndex = 0, threads: typing.SupportsInt | typing.SupportsIndex = 1, pmt_waveform_events: typing.SupportsInt | typing.SupportsIndex = 0, waveform_samples: typing.SupportsInt | typing.SupportsIndex = 200, s2_fast_threshold: typing.SupportsFloat | typing.SupportsIndex = 1000.0, s2_path: str = 'auto', first_index: typing.SupportsInt | typing.SupportsIndex = 0) -> dict:
        """
        n events (one row each, 'kept' marks triggered events with an S1 and an S2); s2_path 'auto' (binned above s2_fast_threshold expected photons), 'binned', 'photons' or 'photons_channels'; event i draws from the streams of index first_index + i (batches of one run give the same events as one call)
        """
    @property
    def n_pmt(self) -> int:
        ...
    @property
    def response(self) -> LXeResponse:
        ...
    @property
    def waveforms(self) -> WaveformSimulator:
        ...
class AccidentalPairer:
    @staticmethod
    def column_names() -> list[str]:
        ...
    def __init__(self, s1: dict, s2: dict, corrections: PositionCorrections, drift_time_min: typing.SupportsFloat | typing.SupportsIndex, drift_time_max: typing.SupportsFloat | typing.SupportsIndex, with_replacement: bool = True, seed: typing.SupportsInt | typing.SupportsIndex = 0, weight: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> None:
        ...
    def pair(self, n: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex = 0, threads: typing.SupportsInt | typing.SupportsIndex = 1) -> dict:
        """
        accidental events first .. first + n - 1 as a dict of numpy arrays (events schema)
        """
    def set_drift_time_histogram(self, edges: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], contents: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex]) -> None:
        ...
    def set_nr_median(self, curve: NRMedianCurve) -> None:
        ...
    def set_weight(self, weight: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def max_pairs(self) -> int:
        ...
    @property
    def n_s1(self) -> int:
        ...
    @property
    def n_s2(self) -> int:
        ...
    @property
    def weight(self) -> float:
        ...
class RasterOptions:
    """
    Options of tpcml::TrackRasteriser (P3-CNN Sec. 3.2).
    """
    channels_first: bool
    @staticmethod
    def from_detector(detector: DetectorConfig, upscale: typing.SupportsInt | typing.SupportsIndex = 1, channels_first: bool = False) -> RasterOptions:
        ...
    def __init__(self) -> None:
        ...
    @property
    def drift_velocity(self) -> float:
        ...
    @drift_velocity.setter
    def drift_velocity(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def pixel_size(self) -> float:
        ...
    @pixel_size.setter
    def pixel_size(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def pixels(self) -> int:
        ...
    @pixels.setter
    def pixels(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def upscale(self) -> int:
        ...
    @upscale.setter
    def upscale(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
class TrackRasteriser:
    """
    XZ/YZ track images of strip hits (tpcml::TrackRasteriser, P3-CNN Sec. 3.2).
    """
    @typing.overload
    def __init__(self, options: RasterOptions = ...) -> None:
        ...
    @typing.overload
    def __init__(self, pixels: typing.SupportsInt | typing.SupportsIndex, pixel_size: typing.SupportsFloat | typing.SupportsIndex, drift_velocity: typing.SupportsFloat | typing.SupportsIndex, upscale: typing.SupportsInt | typing.SupportsIndex = 1, channels_first: bool = False) -> None:
        ...
    def batch(self, plane: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], strip: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], time: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], charge: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], offsets: typing.Annotated[numpy.typing.ArrayLike, numpy.int64], threads: typing.SupportsInt | typing.SupportsIndex = 1, out: typing.Any = None) -> tuple[numpy.typing.NDArray[numpy.float32], numpy.typing.NDArray[numpy.uint32]]:
        """
        Images of events whose hits are [offsets[e], offsets[e+1]) of the flat arrays: returns (images (N, H, W, 3) or (N, 3, H, W) float32, hits outside the window (N,) uint32); `out`: an existing float32 array to write the images into (it is returned). GIL released.
        """
    @property
    def options(self) -> RasterOptions:
        ...
    @property
    def side(self) -> int:
        ...
class HitPeakImager:
    """
    Hit / Peak / HitPeak images of LXe TPC events (tpcml::HitPeakImager, X1T-CNN Sec. III).
    """
    def __init__(self, detector: DetectorConfig, kind: str = 'hitpeak', width: typing.SupportsInt | typing.SupportsIndex = 0, height: typing.SupportsInt | typing.SupportsIndex = 0, samples: typing.SupportsInt | typing.SupportsIndex = 200, channels_first: bool = False) -> None:
        """
        kind: hit, peak, hitpeak or raw; width/height 0: the paper's (HitPeak 75 x 75, Hit and Peak 100 x 50).
        """
    def batch(self, s1_pmt_area: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], s2_pmt_area: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], s1_waveform: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], s1_waveform_top: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], s1_waveform_bottom: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], s2_waveform: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], s2_waveform_top: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], s2_waveform_bottom: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], threads: typing.SupportsInt | typing.SupportsIndex = 1, out: typing.Any = None) -> numpy.typing.NDArray[numpy.float32]:
        """
        Images of N events from the events-tree arrays ((N, n_pmt) areas, (N, samples) waveforms): (N, H, W, 3) float32 in [0, 1] ((N, 3, H, W) with channels_first; (N, 2 n_pmt + 6 samples) in raw mode); `out`: an existing float32 array to write the images into (it is returned). GIL released.
        """
    @property
    def height(self) -> int:
        ...
    @property
    def image_size(self) -> int:
        ...
    @property
    def kind(self) -> str:
        ...
    @property
    def n_pmt(self) -> int:
        ...
    @property
    def samples(self) -> int:
        ...
    @property
    def width(self) -> int:
        ...
class EventVector:
    """
    DARWIN-VAE event vector [S1 total waveform, S2 total waveform, S2 top and bottom hit patterns] (tpcml::EventVectorBuilder, DARWIN-VAE Sec. 3.3).
    """
    @typing.overload
    def __init__(self, detector: DetectorConfig, samples: typing.SupportsInt | typing.SupportsIndex = 200, norm: str = 'log1p') -> None:
        """
        norm: log1p (sign(x) log(1 + |x|) of PE, the default) or none (PE).
        """
    @typing.overload
    def __init__(self, n_top: typing.SupportsInt | typing.SupportsIndex, n_bottom: typing.SupportsInt | typing.SupportsIndex, samples: typing.SupportsInt | typing.SupportsIndex = 200, norm: str = 'log1p') -> None:
        ...
    def batch(self, s1_waveform: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], s2_waveform: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], s2_pmt_area: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], threads: typing.SupportsInt | typing.SupportsIndex = 1) -> numpy.typing.NDArray[numpy.float32]:
        """
        Event vectors of N events ((N, samples) waveforms, (N, n_pmt) S2 areas): (N, 2 samples + n_pmt) float32. GIL released.
        """
    @property
    def n_bottom(self) -> int:
        ...
    @property
    def n_top(self) -> int:
        ...
    @property
    def norm(self) -> str:
        ...
    @property
    def samples(self) -> int:
        ...
    @property
    def size(self) -> int:
        ...
class AnomalyScore:
    """
    DARWIN-VAE anomaly score TS = beta KL - log N(x; x_D, sigma_D) + R H_B of event vectors, from the exported encoder, decoder and classifier graphs on tpcml's ONNX engine (tpcml::AnomalyScore, DARWIN-VAE Sec. 3.2; mean-latent plug-in).
    """
    def __init__(self, encoder: str, decoder: str, classifier: str, R: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> None:
        ...
    def score(self, x: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], threads: typing.SupportsInt | typing.SupportsIndex = 1, parts: bool = False) -> numpy.ndarray:
        """
        TS of N event vectors ((N, event_size) float32): (N,) float64; with parts, (N, 3) {KL, -log N, H_B}. GIL released.
        """
    def with_R(self, R: typing.SupportsFloat | typing.SupportsIndex) -> AnomalyScore:
        """
        The same graphs and sessions with another R.
        """
    @property
    def R(self) -> float:
        ...
    @property
    def beta(self) -> float:
        ...
    @property
    def event_size(self) -> int:
        ...
    @property
    def latent_size(self) -> int:
        ...
class OnnxModel:
    """
    An ONNX model loaded by the tpcml C++ engine (tpcml::onnx::Model).
    """
    @typing.overload
    def __init__(self, data: bytes, name: str = '') -> None:
        ...
    @typing.overload
    def __init__(self, path: str) -> None:
        ...
    def run(self, inputs: typing.Any, max_batch: typing.SupportsInt | typing.SupportsIndex = 64) -> list:
        """
        Runs the model: inputs is an array, a list of arrays or a dict by input name (float32, batch first); returns the list of outputs.
        """
    @property
    def batched(self) -> bool:
        ...
    @property
    def event_mixing(self) -> str:
        """
        Empty when events stay independent; else the node that mixes them (run as one batch)
        """
    @property
    def input_columns(self) -> list[str]:
        ...
    @property
    def inputs(self) -> list:
        ...
    @property
    def metadata(self) -> dict[str, str]:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def node_count(self) -> int:
        ...
    @property
    def opset(self) -> int:
        ...
    @property
    def outputs(self) -> list:
        ...
    @property
    def step_count(self) -> int:
        ...
def accepted_units(dimension: str) -> list[str]:
    ...
def accidental_count(rate_s1_hz: typing.SupportsFloat | typing.SupportsIndex, rate_s2_hz: typing.SupportsFloat | typing.SupportsIndex, window_us: typing.SupportsFloat | typing.SupportsIndex, live_time_s: typing.SupportsFloat | typing.SupportsIndex, efficiency: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> float:
    """
    Expected accidental events n_acc = r1 r2 dt_w T eps (P2-DNN Eq. 2.1)
    """
def available_memory() -> int:
    """
    bytes of memory the system can still give (0: unknown)
    """
def check_detector(files: collections.abc.Sequence[str], model_detector: str, model_name: str, allow_mismatch: bool) -> str:
    """
    the files' detector tag after refusing a mismatch (tpcml::checkDetector)
    """
def compiler_version() -> str:
    """
    compiler the library was built with
    """
def describe_tree(file: str, tree: str) -> dict:
    ...
def dimension_names() -> list[str]:
    ...
def hex_pmt_array(n: typing.SupportsInt | typing.SupportsIndex, pitch: typing.SupportsFloat | typing.SupportsIndex) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
    """
    (x, y) of the n hexagonal-grid positions nearest the axis (mm)
    """
def isolated_rates(file: str, n_s1: typing.SupportsInt | typing.SupportsIndex, n_s2: typing.SupportsInt | typing.SupportsIndex, live_time_s: typing.SupportsFloat | typing.SupportsIndex = -1.0, efficiency: typing.SupportsFloat | typing.SupportsIndex = -1.0) -> dict:
    """
    Rates for Eq. 2.1 as tpcml-pair takes them: user live time -> N / T; else the stored tpcml_isolated_s*_rate, else N / tpcml_livetime
    """
def library_directory() -> str:
    """
    directory holding libtpcml
    """
def list_trees(file: str) -> list[str]:
    ...
def model_json(path: str, metadata: collections.abc.Mapping[str, str] = {}, sha256: str = '') -> str:
    """
    the tpcml_model JSON object: path, sha256, metadata
    """
def onnx_benchmark(model: OnnxModel, batch: typing.SupportsInt | typing.SupportsIndex, n_events: typing.SupportsInt | typing.SupportsIndex, repeats: typing.SupportsInt | typing.SupportsIndex = 5, cpu_time: bool = False) -> float:
    """
    Best time per event (ns) of the C++ engine alone over random inputs (wall time, or the calling thread's CPU time with cpu_time=True).
    """
def onnx_isa() -> str:
    """
    instruction set of the engine's kernels (avx512, avx2, base)
    """
def onnx_schema_table() -> list:
    """
    The engine's ONNX operator table: versions, first supported version, attributes (name, type, required, from, until), input type classes and input/output counts.
    """
def onnx_supported_operators() -> list[str]:
    ...
def pair_file(s1: dict, s2: dict, input: str, output: str, n: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex = 0, detector: str = 'pandax2', threads: typing.SupportsInt | typing.SupportsIndex = 1, with_replacement: bool = True, nr_median: str = '', drift_window: tuple[typing.SupportsFloat | typing.SupportsIndex, typing.SupportsFloat | typing.SupportsIndex] | None = None, live_time_s: typing.SupportsFloat | typing.SupportsIndex = -1.0, efficiency: typing.SupportsFloat | typing.SupportsIndex = -1.0, provenance: collections.abc.Sequence[tuple[str, str]] = [], log: typing.Any = None, format: str = 'ttree', allow_detector_mismatch: bool = False, command_line: collections.abc.Sequence[str] = [], progress: bool = True) -> dict:
    """
    tpcml::pairFile on isolated S1/S2 columns already read from `input`: pairs n accidental events and writes them to `output` (events tree, detector, provenance, tpcml_n_acc); returns a summary dict
    """
def provenance_json(command_line: collections.abc.Sequence[str], inputs: collections.abc.Sequence[str], extra: collections.abc.Sequence[tuple[str, str]] = []) -> str:
    """
    the tpcml_provenance JSON object (tpcml::provenanceJson); `extra`: (key, JSON value) pairs
    """
def provenance_keys() -> list[str]:
    """
    the keys every tpcml_provenance object has
    """
def read_detector(file: str) -> str:
    """
    title of tpcml_detector ('' when absent)
    """
def read_parameter(file: str, key: str, fallback: typing.SupportsFloat | typing.SupportsIndex) -> float:
    """
    value of the TParameter<double> `key` in `file`, or `fallback` when absent
    """
def read_pmt_table(path: str) -> tuple[tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]], tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]]:
    """
    ((top x, y), (bottom x, y)) in mm from a PMT position table (docs/detector-format.md)
    """
def require_columns(file: str, tree: str, columns: collections.abc.Sequence[str]) -> None:
    ...
def require_distinct_output(output: str, inputs: collections.abc.Sequence[str], option: str = '--output') -> None:
    """
    Raises UsageError when `output` is the same file as one of `inputs` (same path, symbolic or hard link, another spelling), before any work.
    """
def root_version() -> str:
    """
    ROOT version the library runs against
    """
def score_files(files: collections.abc.Sequence[str], tree: str, output: str, model: str, columns: collections.abc.Sequence[str], name: str, threads: typing.SupportsInt | typing.SupportsIndex, format: str = 'ttree', progress: bool = True, allow_detector_mismatch: bool = False, command_line: collections.abc.Sequence[str] = []) -> dict:
    ...
def sha256_file(path: str) -> str:
    ...
def unit_factor(unit: str, dimension: str) -> float:
    ...
def version() -> str:
    """
    tpcml C++ library version
    """
def write_output_metadata(path: str, detector: str = '', provenance: str = '', model: str = '', carry_from: collections.abc.Sequence[str] = []) -> None:
    """
    add tpcml_detector, tpcml_provenance, tpcml_model and the first tpcml_nr_median of `carry_from` to a file
    """
def write_tree_file(path: str, trees: dict, named: dict = {}, parameters: dict = {}, auto_flush: typing.SupportsInt | typing.SupportsIndex = 0, format: str = 'ttree') -> None:
    """
    Write {tree: {column: 1-d array or 2-d (entries, k) fixed-length arrays}} plus TNamed and TParameter<double> objects to a new ROOT file (compiled writer, no jitting).
    """
EVENT_COLUMNS: tuple
EVENT_DTYPES: dict
EVENT_VECTOR_COLUMNS: tuple
FEATURES: tuple
HITPEAK_COLUMNS: tuple
S1_COLUMNS: tuple
S2_COLUMNS: tuple
onnx_ir_versions: tuple
onnx_newest_opset: int = 28

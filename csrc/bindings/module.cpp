// hushboard._C — the only pybind11 code. Build and machine facts live here; each kernel family
// binds itself in bind_<family>.cpp.
#include <pybind11/pybind11.h>

#include "hushboard/common.h"
#include "hushboard/cuda.h"

namespace py = pybind11;

void bind_stft(py::module_& m);
void bind_fx(py::module_& m);
void bind_complex_conv(py::module_& m);
void bind_dccrn(py::module_& m);
void bind_band(py::module_& m);
void bind_rnn(py::module_& m);
void bind_bsrnn(py::module_& m);

PYBIND11_MODULE(_C, m) {
  m.doc() = "hushboard native kernels (CPU SIMD + optional CUDA), torch-free";
#ifdef HB_VERSION_INFO
  m.attr("__version__") = HB_VERSION_INFO;
#else
  m.attr("__version__") = HB_VERSION_STRING;
#endif
  m.attr("WITH_CUDA") = hb::cuda_compiled();
  m.def("cuda_archs", &hb::cuda_archs, "CUDA architectures compiled in ('' without CUDA)");
  m.def("cuda_device_count", &hb::cuda_device_count,
        "Usable CUDA devices (0 without CUDA, driver or device)");
  m.def("cuda_device_name", &hb::cuda_device_name, py::arg("device") = 0);
  m.def("cpu_simd_path", &hb::cpu_simd_path, "SIMD path chosen at run time");
  m.def("set_simd_enabled", &hb::set_simd_enabled, py::arg("enabled"),
        "False forces the portable path (tests, benchmarks); True restores run-time detection");
  m.def("get_num_threads", &hb::get_num_threads);
  m.def("set_num_threads", &hb::set_num_threads, py::arg("num_threads"));
  m.def("compiler", [] {
#if defined(__clang__)
    return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    return std::string("gcc ") + __VERSION__;
#else
    return std::string("unknown");
#endif
  });
  bind_stft(m);
  bind_fx(m);
  bind_complex_conv(m);
  bind_dccrn(m);
  bind_band(m);
  bind_rnn(m);
  bind_bsrnn(m);
}

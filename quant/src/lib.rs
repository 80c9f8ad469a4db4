//! INT8 quantization.

//! Bakes libtorch's library folder into the trainer's binaries and tests (rpath), so they run
//! without `LD_LIBRARY_PATH`. torch-sys reports the folder through its `links = "tch"` key.
fn main() {
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}

//! A GPU compute device for motus's kernels (optical flow today): Vulkan through wgpu.
//!
//! On a Jetson this is the board's GPU; on a workstation without one, and in CI, Mesa's
//! lavapipe provides a real Vulkan device on the CPU, so the same shaders are exercised
//! everywhere. One device per process is shared ([`GpuContext::shared`]): creating a Vulkan
//! device costs tens of milliseconds and some drivers limit how many can exist.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// What [`quiet_display_probe`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeDir {
    /// `XDG_RUNTIME_DIR` names a folder already: left alone.
    Given,
    /// Set to this private folder (created 0700 when missing, owned by this user).
    Set(PathBuf),
    /// Left unset: the folder could not be made private to this user (or not on Linux).
    Unavailable,
}

/// Gives the process an `XDG_RUNTIME_DIR` when it has none, so opening Vulkan does not print
/// Mesa's "error: XDG_RUNTIME_DIR is invalid or not set in the environment." twice on every
/// run where a GPU is probed (the Vulkan loader's Wayland support looks for a display there;
/// a service or an ssh session without a login seat has no such folder). Headless compute
/// never uses the folder: an empty one private to this user (`$TMPDIR/motus-runtime-UID`,
/// mode 0700, refused if another user owns it) is enough. Call it first in `main`, while the
/// process has one thread: it writes the environment.
pub fn quiet_display_probe() -> RuntimeDir {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).is_dir()) {
        return RuntimeDir::Given;
    }
    match private_runtime_dir() {
        Some(dir) => {
            // SAFETY-free in edition 2021, and sound here: called while the process is single-threaded.
            std::env::set_var("XDG_RUNTIME_DIR", &dir);
            RuntimeDir::Set(dir)
        }
        None => RuntimeDir::Unavailable,
    }
}

/// `$TMPDIR/motus-runtime-UID`, created 0700; `None` when it exists with another owner or
/// other rights, or cannot be made.
#[cfg(target_os = "linux")]
fn private_runtime_dir() -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let dir = std::env::temp_dir().join(format!("motus-runtime-{uid}"));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(_) => return None,
    }
    // Never trust a folder someone else made (or a link to one).
    let meta = std::fs::symlink_metadata(&dir).ok()?;
    (meta.is_dir() && meta.uid() == uid && meta.permissions().mode() & 0o777 == 0o700).then_some(dir)
}

#[cfg(not(target_os = "linux"))]
fn private_runtime_dir() -> Option<PathBuf> {
    None
}

/// Why no GPU device could be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GpuError {
    /// No Vulkan adapter: no GPU driver and no software Vulkan installed.
    #[error("no GPU (Vulkan) adapter found: {0}; install the board's Vulkan driver, or Mesa's lavapipe (Debian: apt-get install mesa-vulkan-drivers), or use the CPU backend")]
    NoAdapter(String),
    /// An adapter exists but refused a device with the limits motus needs.
    #[error("GPU adapter {adapter} refused a device: {reason}")]
    Device { adapter: String, reason: String },
    /// Waiting for GPU work failed (device lost, timeout).
    #[error("GPU work failed: {0}")]
    Poll(String),
    /// A buffer could not be read back.
    #[error("GPU readback failed: {0}")]
    Readback(String),
}

/// One opened GPU device and its queue.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuContext").field("adapter", &self.info.name).field("backend", &self.info.backend).finish()
    }
}

impl GpuContext {
    /// Opens the best Vulkan adapter (a discrete or integrated GPU before a software one).
    pub fn new() -> Result<Self, GpuError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::VULKAN,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        }))
        .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        // Ask for the adapter's own storage limits: flow keeps many full-size buffers bound.
        let required_limits = wgpu::Limits {
            max_storage_buffers_per_shader_stage: limits.max_storage_buffers_per_shader_stage.min(16),
            max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
            max_buffer_size: limits.max_buffer_size,
            ..wgpu::Limits::downlevel_defaults()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("motus"),
            required_limits,
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device { adapter: info.name.clone(), reason: e.to_string() })?;
        log::info!("GPU: {} ({:?}, {})", info.name, info.device_type, info.driver_info);
        Ok(GpuContext { device, queue, info })
    }

    /// The process-wide device, opened on first use. A failure is remembered, so callers that
    /// fall back to the CPU do not retry the driver on every frame.
    pub fn shared() -> Result<Arc<GpuContext>, GpuError> {
        /// The first attempt's outcome, kept for every later caller.
        type Opened = Option<Result<Arc<GpuContext>, GpuError>>;
        static SHARED: OnceLock<Mutex<Opened>> = OnceLock::new();
        let cell = SHARED.get_or_init(|| Mutex::new(None));
        let mut slot = cell.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert_with(|| GpuContext::new().map(Arc::new)).clone()
    }

    /// The adapter's name, as drivers report it (e.g. "NVIDIA Tegra Orin", "llvmpipe").
    pub fn adapter_name(&self) -> &str {
        &self.info.name
    }

    /// True for software rasterisers (lavapipe): correct, but no faster than the CPU path.
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// Compiles a WGSL compute entry point with an inferred layout.
    pub fn compute_pipeline(&self, label: &str, module: &wgpu::ShaderModule, entry: &str) -> wgpu::ComputePipeline {
        self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(label),
            layout: None,
            module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        })
    }

    /// Blocks until all submitted work is done.
    pub fn wait(&self) -> Result<(), GpuError> {
        self.device.poll(wgpu::PollType::wait_indefinitely()).map(|_| ()).map_err(|e| GpuError::Poll(e.to_string()))
    }

    /// Copies `src` (a `COPY_SRC` buffer) into `staging` (a `MAP_READ | COPY_DST` buffer of at
    /// least the same size) and reads it back as f32.
    pub fn read_f32(&self, staging: &wgpu::Buffer, out: &mut [f32]) -> Result<(), GpuError> {
        let bytes = (out.len() * 4) as u64;
        let slice = staging.slice(..bytes);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.recv().map_err(|e| GpuError::Readback(e.to_string()))?.map_err(|e| GpuError::Readback(e.to_string()))?;
        {
            let view = slice.get_mapped_range().map_err(|e| GpuError::Readback(e.to_string()))?;
            out.copy_from_slice(bytemuck::cast_slice(&view));
        }
        staging.unmap();
        Ok(())
    }
}

/// Whether GPU tests were explicitly told to skip (`MOTUS_SKIP_GPU_TESTS=1`). GPU tests never
/// skip silently: without this variable, a missing adapter fails them.
pub fn gpu_tests_skipped() -> bool {
    std::env::var("MOTUS_SKIP_GPU_TESTS").is_ok_and(|v| v == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_adapter_message_says_what_to_install() {
        let text = GpuError::NoAdapter("no compatible adapter".into()).to_string();
        assert!(text.contains("mesa-vulkan-drivers") && text.contains("CPU backend"), "{text}");
    }

    #[test]
    fn a_vulkan_device_runs_a_kernel() {
        if gpu_tests_skipped() {
            eprintln!("MOTUS_SKIP_GPU_TESTS=1: skipping");
            return;
        }
        let gpu = GpuContext::shared()
            .expect("a Vulkan adapter (lavapipe in CI); set MOTUS_SKIP_GPU_TESTS=1 to skip explicitly");
        let module = gpu.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: None,
            source: wgpu::ShaderSource::Wgsl(
                "@group(0) @binding(0) var<storage, read_write> a: array<f32>;
                 @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
                     if (id.x < arrayLength(&a)) { a[id.x] = a[id.x] * 2.0 + 1.0; }
                 }"
                .into(),
            ),
        });
        let pipeline = gpu.compute_pipeline("double", &module, "main");
        let data: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC;
        let buf = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: 400,
            usage,
            mapped_at_creation: false,
        });
        let staging = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: 400,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        gpu.queue.write_buffer(&buf, 0, bytemuck::cast_slice(&data));
        let bind = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[wgpu::BindGroupEntry { binding: 0, resource: buf.as_entire_binding() }],
        });
        let mut enc = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind, &[]);
            pass.dispatch_workgroups(2, 1, 1);
        }
        enc.copy_buffer_to_buffer(&buf, 0, &staging, 0, 400);
        gpu.queue.submit([enc.finish()]);
        let mut out = vec![0.0; 100];
        gpu.read_f32(&staging, &mut out).unwrap();
        assert_eq!(out[0], 1.0);
        assert_eq!(out[99], 199.0);
    }
}

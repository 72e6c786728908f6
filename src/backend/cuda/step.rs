//! One kernel launch of an engine: a parameter block whose pointers and batch-dependent counts are
//! filled in for each (batch, bindings) before the launch (or the graph capture); or the call of a
//! plugin layer's `enqueue`, which runs the application's host code at each run.

use std::ffi::c_void;

use cudarc::driver::result as drv;
use cudarc::driver::sys;

use super::cuda_err;
use super::kernels::{Func, func};
use super::plugin::PluginCall;
use crate::engine::Tactic;
use crate::error::{Error, Result};

/// Where a tensor lives during a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loc {
    /// Arena offset in f32 units per batch item (the engine's memory plan: scaled by the batch).
    Arena(usize),
    /// The caller's binding of that index.
    Binding(usize),
    /// A buffer owned by the executor (weights, constants, staged inputs).
    Buffer(usize),
}

enum Patch {
    Ptr(usize, Loc),
    /// An i64 field holding the run's batch times this.
    Count(usize, i64),
    /// An i32 field holding the run's batch.
    Batch32(usize),
}

/// Threads per block of every kernel (`__launch_bounds__(256)` in kernels/*.cu).
pub const BLOCK: u32 = 256;

#[derive(Clone, Copy)]
pub enum Grid {
    /// One thread per element of batch × `per_item`, grid-stride: the grid is capped, so any
    /// batch fits the grid's limits.
    Flat { per_item: u64 },
    /// Tiles of `tile_rows` rows (fc.cu: 64 rows by 64 columns): rows in x (up to 2^31 - 1
    /// blocks), columns in y.
    Tiles {
        rows_per_item: u64,
        tile_rows: u32,
        col_tiles: u32,
    },
    /// One block per batch item × `per_item` pieces, block-stride (conv.cu's shared-memory kernel).
    Blocks { per_item: u64 },
    /// Jobs of up to `items` batch items (of `per_item` each) times `splits` chunks of output
    /// channels, block-stride (conv.cu's shallow variant, which derives the split it gets from
    /// the grid; resident.cu, one chunk). Small batches stage fewer items per job, so that the jobs cover the
    /// multiprocessors; the count is written to the i32 field at `items_at`. At most `per_sm`
    /// blocks a multiprocessor: resident.cu's blocks stage the weights once for all their jobs.
    Staged {
        per_item: u64,
        items: u64,
        splits: u64,
        items_at: usize,
        per_sm: u32,
    },
    /// A fixed number of blocks (capped at 8 per multiprocessor), whatever the batch: kernels
    /// that loop over their outputs, or need one block for all of them (fc_rows.cu).
    Fixed { blocks: u32 },
    /// igemm.cu's tiles of `tile_rows` rows over `ksteps` reduction steps, split across grid.z
    /// when the tiles alone would leave most multiprocessors idle and the workspace holds `parts`
    /// partial tiles; the split count and depth are written to the i32 fields at `splits_at` and
    /// `splits_at + 4`.
    Gemm {
        rows_per_item: u64,
        tile_rows: u32,
        col_tiles: u32,
        ksteps: u32,
        splits_at: usize,
        parts: u64,
    },
}

/// Reduction splits for `tiles` output tiles of `ksteps` steps on `sms` multiprocessors, with a
/// workspace of `parts` partial tiles: (splits, steps per split). About two blocks per
/// multiprocessor, at least two steps each; `splits * tiles` stays within `parts` when split.
pub fn split(tiles: u64, ksteps: u32, sms: u32, parts: u64) -> (u32, u32) {
    if tiles >= sms as u64 || ksteps < 4 {
        return (1, ksteps);
    }
    let tiles = tiles.max(1);
    let want = (2 * sms as u64).div_ceil(tiles);
    let splits = want.min((parts / tiles).min(u32::MAX as u64)) as u32;
    let splits = splits.min(ksteps / 2).max(1);
    let kps = ksteps.div_ceil(splits);
    (ksteps.div_ceil(kps), kps)
}

/// Bytes of one partial tile of the split workspace (and its tile counter, an i32).
pub const PART_BYTES: usize = super::igemm::PART_WORDS * 4 + 4;

/// Partial tiles a workspace of `bytes` may hold on `sms` multiprocessors: at most 3 x `sms`,
/// which a split never exceeds (about two blocks per multiprocessor, fewer tiles than `sms`).
pub fn parts_within(bytes: usize, sms: u32) -> u64 {
    ((bytes / PART_BYTES) as u64).min(3 * sms as u64)
}

/// The most partial tiles a [`Grid::Gemm`] launch holds at any batch up to `max_batch`.
pub fn parts_needed(grid: &Grid, max_batch: u64, sms: u32) -> u64 {
    let Grid::Gemm {
        rows_per_item,
        tile_rows,
        col_tiles,
        ksteps,
        parts,
        ..
    } = *grid
    else {
        return 0;
    };
    // Every row-tile count from batch 1's to `max_batch`'s (a superset of those a batch gives),
    // up to `sms` tiles, from which on nothing is split.
    let rows = |batch: u64| (batch * rows_per_item).div_ceil(tile_rows as u64).max(1);
    let mut most = 0;
    for r in rows(1)..=rows(max_batch.max(1)) {
        let tiles = r * col_tiles.max(1) as u64;
        if tiles >= sms as u64 {
            break;
        }
        let (splits, _) = split(tiles, ksteps, sms, parts);
        if splits > 1 {
            most = most.max(splits as u64 * tiles);
        }
    }
    most
}

/// The most 8-byte words of a kernel's parameter block (GemmArgs, the largest, takes about half).
const ARG_WORDS: usize = 64;

/// What a step runs.
enum Body {
    /// A kernel of kernels/*.cu, given the parameter block.
    Kernel(Func),
    /// A plugin layer: no parameter block, grid or alternatives.
    Plugin(Box<PluginCall>),
}

pub struct Step {
    /// What the launch computes, for profiles: the layers it runs, else the kernel's name.
    pub label: String,
    /// The convolution or FC layer it runs and its kernel family (what tactic timing measures).
    pub tactic: Option<(usize, Tactic)>,
    body: Body,
    /// The parameter block, as 8-byte words (its C struct is 8-byte aligned).
    args: Vec<u64>,
    patches: Vec<Patch>,
    pub grid: Grid,
    /// Dynamic shared memory per block, bytes.
    smem: u32,
    /// Threads per block: [`BLOCK`] but for kernels bound to another count.
    threads: u32,
    /// Launched as a programmatic dependent of the launch before it: its blocks may start while
    /// that kernel runs (which lets them go early), and wait for it inside the kernel
    /// (`griddepcontrol.wait`) before reading what it writes.
    follows: bool,
    /// Runs one item whatever the batch (every output is batch-invariant).
    pub invariant: bool,
    /// Runs of at most this batch launch this step instead (a kernel for few rows).
    small: Option<(u64, Box<Step>)>,
}

impl Step {
    pub fn new<T: Copy>(kernel: &str, args: &T, grid: Grid, invariant: bool) -> Result<Step> {
        Step::of(func(kernel)?, kernel, args, grid, invariant)
    }

    /// As [`Step::new`], for a kernel already looked up (`func`, named `kernel`).
    pub fn of<T: Copy>(
        func: Func,
        kernel: &str,
        args: &T,
        grid: Grid,
        invariant: bool,
    ) -> Result<Step> {
        let size = std::mem::size_of::<T>();
        if size > ARG_WORDS * 8 {
            crate::bail!(
                Runtime,
                "kernel {kernel}: a parameter block of {size} bytes (at most {})",
                ARG_WORDS * 8
            );
        }
        let mut words = vec![0u64; size.div_ceil(8)];
        // SAFETY: `T` is a plain `#[repr(C)]` block of integers and floats; the words cover it.
        unsafe {
            std::ptr::copy_nonoverlapping(
                args as *const T as *const u8,
                words.as_mut_ptr() as *mut u8,
                size,
            )
        };
        Ok(Step {
            label: kernel.to_string(),
            tactic: None,
            body: Body::Kernel(func),
            args: words,
            patches: Vec::new(),
            grid,
            smem: 0,
            threads: BLOCK,
            follows: false,
            invariant,
            small: None,
        })
    }

    /// The call of a plugin layer's `enqueue`; `invariant` as for [`Step::new`].
    pub fn plugin(call: PluginCall, invariant: bool) -> Step {
        Step {
            label: call.layer.clone(),
            tactic: None,
            body: Body::Plugin(Box::new(call)),
            args: Vec::new(),
            patches: Vec::new(),
            grid: Grid::Fixed { blocks: 1 },
            smem: 0,
            threads: BLOCK,
            follows: false,
            invariant,
            small: None,
        }
    }

    /// Whether the step runs application code (a plugin), which must run at every enqueue.
    pub fn is_plugin(&self) -> bool {
        matches!(self.body, Body::Plugin(_))
    }

    /// Runs of at most `batch` items launch `alt` instead. Alternatives chain by batch: one for
    /// fewer items than an earlier one's goes below it, one for more goes above it.
    pub fn or_below(mut self, batch: u64, alt: Step) -> Step {
        self.small = Some(match self.small.take() {
            None => (batch, Box::new(alt)),
            Some((most, old)) if batch < most => (most, Box::new(old.or_below(batch, alt))),
            Some((most, old)) => (batch, Box::new(alt.or_below(most, *old))),
        });
        self
    }

    /// The u64 pointer field at `offset` points at `loc`.
    pub fn ptr(mut self, offset: usize, loc: Loc) -> Step {
        self.patches.push(Patch::Ptr(offset, loc));
        self
    }

    /// The i64 field at `offset` holds the run's batch times `per_item`.
    pub fn count(mut self, offset: usize, per_item: i64) -> Step {
        self.patches.push(Patch::Count(offset, per_item));
        self
    }

    /// Dynamic shared memory of each block; beyond the default limit of 48 KiB the kernel opts
    /// in to it (within the device's limit, which the caller checks).
    pub fn shared(mut self, bytes: u32) -> Result<Step> {
        if let (Body::Kernel(f), true) = (&self.body, bytes > 48 * 1024) {
            // The limit belongs to the function, which other steps (of this engine or others)
            // may launch with more: it only ever rises.
            let attr = sys::CUfunction_attribute::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES;
            // SAFETY: a function of the loaded module.
            unsafe {
                let now = drv::function::get_function_attribute(f.0, attr)
                    .map_err(cuda_err("reading a kernel's shared memory"))?;
                if (bytes as i32) > now {
                    drv::function::set_function_attribute(f.0, attr, bytes as i32)
                        .map_err(cuda_err("setting a kernel's shared memory"))?;
                }
            }
        }
        self.smem = bytes;
        Ok(self)
    }

    /// Blocks of `threads` threads (the kernel's launch bound).
    pub fn threads(mut self, threads: u32) -> Step {
        self.threads = threads;
        self
    }

    /// Launched as a programmatic dependent of the step before (see `follows`).
    pub fn follows(mut self) -> Step {
        self.follows = true;
        self
    }

    /// The i32 field at `offset` holds the run's batch.
    pub fn count32(mut self, offset: usize) -> Step {
        self.patches.push(Patch::Batch32(offset));
        self
    }

    /// Launches on `stream` for `batch` items (a plugin step calls its `enqueue`); `resolve`
    /// gives each location's address.
    ///
    /// # Safety
    /// The addresses `resolve` returns must be valid device memory of the sizes the engine's
    /// shapes imply for this batch.
    pub unsafe fn launch(
        &self,
        batch: usize,
        resolve: &dyn Fn(Loc) -> u64,
        sms: u32,
        stream: sys::CUstream,
    ) -> Result<()> {
        let batch = if self.invariant { 1 } else { batch as u64 };
        if let Some((most, alt)) = &self.small
            && batch <= *most
        {
            // SAFETY: the caller's promise covers the same run.
            return unsafe { alt.launch(batch as usize, resolve, sms, stream) };
        }
        let func = match &self.body {
            // SAFETY: the caller's promise covers the plugin's tensors and workspace.
            Body::Plugin(call) => {
                return unsafe { call.enqueue(batch as usize, resolve, stream as u64) };
            }
            Body::Kernel(f) => *f,
        };
        // This launch's copy of the parameter block, on the stack: eager launches (engines with
        // plugins) allocate nothing per enqueue.
        let mut words = [0u64; ARG_WORDS];
        let args = &mut words[..self.args.len()];
        args.copy_from_slice(&self.args);
        let bytes = args.as_mut_ptr() as *mut u8;
        for p in &self.patches {
            // SAFETY: offsets come from offset_of! on the block these words hold.
            unsafe {
                match *p {
                    Patch::Ptr(off, loc) => {
                        (bytes.add(off) as *mut u64).write_unaligned(resolve(loc))
                    }
                    Patch::Count(off, per) => {
                        (bytes.add(off) as *mut i64).write_unaligned(batch as i64 * per)
                    }
                    Patch::Batch32(off) => {
                        (bytes.add(off) as *mut i32).write_unaligned(batch as i32)
                    }
                }
            }
        }
        let grid: (u32, u32, u32) = match self.grid {
            Grid::Flat { per_item } => {
                let blocks = (batch * per_item).div_ceil(BLOCK as u64);
                (blocks.clamp(1, sms as u64 * 32) as u32, 1, 1)
            }
            Grid::Blocks { per_item } => {
                ((batch * per_item).clamp(1, sms as u64 * 32) as u32, 1, 1)
            }
            Grid::Staged {
                per_item,
                items,
                splits,
                items_at,
                per_sm,
            } => {
                let total = batch * per_item;
                // About four jobs per multiprocessor before a job takes several items.
                let ib = (total * splits)
                    .div_ceil(sms as u64 * 4)
                    .clamp(1, items.max(1));
                // SAFETY: `items_at` is the offset of an i32 field (ConvArgs or GemmArgs `ib`).
                unsafe { (bytes.add(items_at) as *mut i32).write_unaligned(ib as i32) };
                let jobs = total.div_ceil(ib) * splits;
                (jobs.clamp(1, (sms * per_sm) as u64) as u32, 1, 1)
            }
            Grid::Fixed { blocks } => (blocks.clamp(1, sms * 8), 1, 1),
            Grid::Tiles {
                rows_per_item,
                tile_rows,
                col_tiles,
            } => {
                let tiles = (batch * rows_per_item)
                    .div_ceil(tile_rows as u64)
                    .clamp(1, i32::MAX as u64);
                (tiles as u32, col_tiles.max(1), 1)
            }
            Grid::Gemm {
                rows_per_item,
                tile_rows,
                col_tiles,
                ksteps,
                splits_at,
                parts,
            } => {
                let rows = (batch * rows_per_item)
                    .div_ceil(tile_rows as u64)
                    .clamp(1, i32::MAX as u64);
                let (splits, kps) = split(rows * col_tiles.max(1) as u64, ksteps, sms, parts);
                // SAFETY: `splits_at` is offset_of!(GemmArgs, splits); `kps` follows it.
                unsafe {
                    (bytes.add(splits_at) as *mut i32).write_unaligned(splits as i32);
                    (bytes.add(splits_at + 4) as *mut i32).write_unaligned(kps as i32);
                }
                (rows as u32, col_tiles.max(1), splits)
            }
        };
        let mut params = [bytes as *mut c_void];
        let launched = if self.follows {
            let mut attr = sys::CUlaunchAttribute {
                id: sys::CUlaunchAttributeID::CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION,
                pad: [0; 4],
                // SAFETY: a plain C union of integers; zero is a valid value of each member.
                value: unsafe { std::mem::zeroed() },
            };
            attr.value.programmaticStreamSerializationAllowed = 1;
            let config = sys::CUlaunchConfig {
                gridDimX: grid.0,
                gridDimY: grid.1,
                gridDimZ: grid.2,
                blockDimX: self.threads,
                blockDimY: 1,
                blockDimZ: 1,
                sharedMemBytes: self.smem,
                hStream: stream,
                attrs: &mut attr,
                numAttrs: 1,
            };
            // SAFETY: as for launch_kernel below; `config` and `attr` outlive the call.
            unsafe {
                sys::cuLaunchKernelEx(&config, func.0, params.as_mut_ptr(), std::ptr::null_mut())
            }
            .result()
        } else {
            // SAFETY: the function takes one parameter, the block `params` points at; the
            // caller vouches for the addresses inside it.
            unsafe {
                drv::launch_kernel(
                    func.0,
                    grid,
                    (self.threads, 1, 1),
                    self.smem,
                    stream,
                    &mut params,
                )
            }
        };
        launched.map_err(|e| {
            Error::Runtime(format!(
                "CUDA: kernel launch for '{}' (grid {grid:?}, {} bytes of shared memory): {e:?}",
                self.label, self.smem
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Grid, PART_BYTES, parts_needed, parts_within, split};

    const ALL: u64 = 3 * 132;

    #[test]
    fn splits_fill_the_gpu_within_the_workspace() {
        assert_eq!(split(200, 25, 132, ALL), (1, 25));
        assert_eq!(split(8, 3, 132, ALL), (1, 3));
        // LeNet's ip1 at batch 1: 8 tiles of 25 steps.
        let (s, k) = split(8, 25, 132, ALL);
        assert!(s * k >= 25 && (s - 1) * k < 25 && k >= 2, "{s} x {k}");
        for parts in [ALL, 100, 17, 2, 1, 0] {
            for tiles in 1..132u64 {
                for ksteps in 1..200 {
                    let (s, k) = split(tiles, ksteps, 132, parts);
                    assert!(
                        s == 1 || s as u64 * tiles <= parts,
                        "{tiles} {ksteps} {parts}"
                    );
                    assert!(s * k >= ksteps && (s - 1) * k < ksteps, "{tiles} {ksteps}");
                }
            }
        }
    }

    #[test]
    fn a_small_workspace_means_fewer_splits_down_to_none() {
        let full = split(8, 25, 132, ALL).0;
        let limited = split(8, 25, 132, 40).0;
        assert!(1 < limited && limited < full, "{limited} of {full}");
        assert_eq!(split(8, 25, 132, 15), (1, 25));
        assert_eq!(parts_within(0, 132), 0);
        assert_eq!(parts_within(PART_BYTES * 40 + 1, 132), 40);
        assert_eq!(parts_within(1 << 30, 132), ALL);
    }

    #[test]
    fn the_workspace_needed_covers_every_batch_within_the_limit() {
        let grid = |parts| Grid::Gemm {
            rows_per_item: 1,
            tile_rows: 64,
            col_tiles: 8,
            ksteps: 25,
            splits_at: 0,
            parts,
        };
        for parts in [ALL, 40, 15] {
            let need = parts_needed(&grid(parts), 1000, 132);
            assert!(need <= parts, "{need} > {parts}");
            for batch in 1..=1000u64 {
                let tiles = batch.div_ceil(64) * 8;
                let (s, _) = split(tiles, 25, 132, parts);
                assert!(
                    s == 1 || s as u64 * tiles <= need,
                    "batch {batch}: {s} x {tiles}"
                );
            }
        }
        assert_eq!(parts_needed(&grid(15), 1000, 132), 0);
        // An empty output: one tile row at any batch, and no walk over every batch.
        let empty = Grid::Gemm {
            rows_per_item: 0,
            tile_rows: 128,
            col_tiles: 8,
            ksteps: 25,
            splits_at: 0,
            parts: ALL,
        };
        assert_eq!(parts_needed(&empty, u32::MAX as u64, 132), 72);
        assert_eq!(parts_needed(&Grid::Flat { per_item: 1 }, 10, 132), 0);
    }
}

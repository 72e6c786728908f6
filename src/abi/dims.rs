//! The value types passed by value through virtual calls: `Dims` (68 bytes), `Weights` (24 bytes)
//! and `Permutation` (32 bytes). On x86-64 SysV both C++ and Rust `extern "C"` pass such structs in
//! memory and return them through a hidden pointer, so `#[repr(C)]` mirrors are the whole story.
//! C++ constructors leave `type[]` (and `d[nbDims..]`) uninitialised: only `d[0..nbDims]` is read.

use std::ffi::c_void;

use crate::error::{Error, Result};
use crate::types::{DataType, Weights};

pub const MAX_DIMS: usize = 8;

/// `DimensionType` values written into returned `Dims` (callers of 5.x headers may read them).
const SPATIAL: i32 = 0;
const CHANNEL: i32 = 1;
const INDEX: i32 = 2;

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dims {
    pub nb_dims: i32,
    pub d: [i32; MAX_DIMS],
    pub type_: [i32; MAX_DIMS],
}

fn int(v: usize, what: &str) -> Result<i32> {
    i32::try_from(v)
        .map_err(|_| Error::InvalidArgument(format!("{what} {v} does not fit a C++ int")))
}

impl Dims {
    pub fn from_values(values: &[i32]) -> Dims {
        let mut dims = Dims {
            nb_dims: values.len().min(MAX_DIMS) as i32,
            ..Dims::default()
        };
        for (d, v) in dims.d.iter_mut().zip(values) {
            *d = *v;
        }
        dims
    }

    /// A tensor shape; three dimensions are typed CHW as `DimsCHW` would.
    pub fn from_shape(shape: &[usize]) -> Result<Dims> {
        let values = shape
            .iter()
            .map(|&v| int(v, "dimension"))
            .collect::<Result<Vec<_>>>()?;
        let mut dims = Dims::from_values(&values);
        if shape.len() == 3 {
            dims.type_[0] = CHANNEL;
        }
        Ok(dims)
    }

    pub fn hw(v: [usize; 2]) -> Result<Dims> {
        Ok(Dims::from_values(&[
            int(v[0], "height")?,
            int(v[1], "width")?,
        ]))
    }

    pub fn nchw(v: [usize; 4]) -> Result<Dims> {
        let values = v
            .iter()
            .map(|&x| int(x, "dimension"))
            .collect::<Result<Vec<_>>>()?;
        let mut dims = Dims::from_values(&values);
        dims.type_[..4].copy_from_slice(&[INDEX, CHANNEL, SPATIAL, SPATIAL]);
        Ok(dims)
    }

    /// `d[0..nbDims]`, after checking `nbDims`.
    pub fn values(&self, what: &str) -> Result<&[i32]> {
        usize::try_from(self.nb_dims)
            .ok()
            .filter(|&n| n <= MAX_DIMS)
            .map(|n| &self.d[..n])
            .ok_or_else(|| {
                Error::InvalidArgument(format!("{what}: nbDims {} is outside 0..=8", self.nb_dims))
            })
    }

    /// Every value at least `min` (1 for sizes, 0 for paddings).
    pub fn sizes(&self, what: &str, min: i32) -> Result<Vec<usize>> {
        let v = self.values(what)?;
        if let Some(bad) = v.iter().find(|&&x| x < min) {
            crate::bail!(
                InvalidArgument,
                "{what}: value {bad} in {v:?} is below {min}"
            );
        }
        Ok(v.iter().map(|&x| x as usize).collect())
    }

    /// A `DimsHW` argument: exactly two values, each at least `min`.
    pub fn hw_values(&self, what: &str, min: i32) -> Result<[usize; 2]> {
        match self.sizes(what, min)?[..] {
            [h, w] => Ok([h, w]),
            _ => crate::bail!(
                InvalidArgument,
                "{what} must have 2 dimensions (height, width), got {}",
                self.nb_dims
            ),
        }
    }

    pub fn signed_values(&self, what: &str) -> Result<Vec<i64>> {
        Ok(self.values(what)?.iter().map(|&x| x as i64).collect())
    }
}

/// `nvinfer1::Weights`: `{DataType type; const void* values; int64_t count;}`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RawWeights {
    pub type_: i32,
    pub values: *const c_void,
    pub count: i64,
}

impl RawWeights {
    pub const EMPTY: RawWeights = RawWeights {
        type_: 0,
        values: std::ptr::null(),
        count: 0,
    };

    /// The C++ view of stored weights: FP32 values owned by the network or engine, valid until the
    /// layer changes.
    pub fn of(w: &Weights) -> RawWeights {
        RawWeights {
            type_: DataType::Float as i32,
            values: if w.values.is_empty() {
                std::ptr::null()
            } else {
                w.values.as_ptr().cast()
            },
            count: w.values.len() as i64,
        }
    }

    /// Copies caller weights. TensorRT holds the pointer until the build; copying now is the safe
    /// equivalent. FP16 values are widened (exactly) and remembered as FP16; INT32 is accepted only
    /// where TensorRT takes it (constants); INT8 never.
    ///
    /// # Safety
    /// A non-null `values` must point at `count` elements of `type`.
    pub unsafe fn read(&self, what: &str, allow_int32: bool) -> Result<Weights> {
        let dtype = DataType::from_i32(self.type_).ok_or_else(|| {
            Error::InvalidArgument(format!("{what}: {} is not a valid DataType", self.type_))
        })?;
        let count = usize::try_from(self.count).map_err(|_| {
            Error::InvalidArgument(format!("{what}: count {} is negative", self.count))
        })?;
        if count == 0 {
            return Ok(Weights {
                dtype: Some(dtype),
                values: Vec::new(),
            });
        }
        if self.values.is_null() {
            crate::bail!(
                InvalidArgument,
                "{what}: values is null but count is {count}"
            );
        }
        if count
            .checked_mul(dtype.size())
            .is_none_or(|b| b > isize::MAX as usize)
        {
            crate::bail!(InvalidArgument, "{what}: count {count} is too large");
        }
        // SAFETY: non-null, `count` elements of `dtype` per the contract; read unaligned because
        // C++ callers may hand any byte buffer (a weights file read into memory).
        let values: Vec<f32> = unsafe {
            match dtype {
                DataType::Float => (0..count)
                    .map(|i| self.values.cast::<f32>().add(i).read_unaligned())
                    .collect(),
                DataType::Half => (0..count)
                    .map(|i| {
                        half::f16::from_bits(self.values.cast::<u16>().add(i).read_unaligned())
                            .to_f32()
                    })
                    .collect(),
                DataType::Int32 if allow_int32 => (0..count)
                    .map(|i| self.values.cast::<i32>().add(i).read_unaligned() as f32)
                    .collect(),
                _ => crate::bail!(
                    Unsupported,
                    "{what}: {dtype:?} weights are not accepted here (use kFLOAT or kHALF)"
                ),
            }
        };
        Ok(Weights {
            dtype: Some(dtype),
            values,
        })
    }
}

/// `nvinfer1::Permutation`: `int order[8]`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Permutation {
    pub order: [i32; MAX_DIMS],
}

impl Permutation {
    /// The first `rank` entries (a permutation of a rank-`rank` tensor).
    pub fn values(&self, rank: usize, what: &str) -> Result<Vec<usize>> {
        let v = &self.order[..rank.min(MAX_DIMS)];
        v.iter()
            .map(|&x| {
                usize::try_from(x).map_err(|_| {
                    Error::InvalidArgument(format!("{what}: {x} in {v:?} is negative"))
                })
            })
            .collect()
    }

    /// Stored permutations are empty for "identity".
    pub fn of(perm: &[usize]) -> Permutation {
        let mut p = Permutation::default();
        for (i, o) in p.order.iter_mut().enumerate() {
            *o = perm.get(i).map_or(i as i32, |&x| x as i32);
        }
        p
    }
}

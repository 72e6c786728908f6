//! `IResizeLayer`. The output size is either given (`setOutputDimensions`) or scaled from the
//! input (`setScales`); setting one forgets the other, as in TensorRT.

use super::super::boundary::enum_arg;
use super::super::dims::Dims;
use super::super::layer::{BASE, ILayerVtbl, This, edit, read, read_input};
use crate::error::{Error, Result};
use crate::network::shape::resize_shape;
use crate::network::{LayerKind, ResizeParams};
use crate::types::ResizeMode;

vtable! {
    "IResizeLayer" => struct IResizeLayerVtbl : ILayerVtbl {
        setOutputDimensions: unsafe extern "C" fn(This, Dims),
        getOutputDimensions: unsafe extern "C" fn(This) -> Dims,
        setScales: unsafe extern "C" fn(This, *const f32, i32),
        getScales: unsafe extern "C" fn(This, i32, *mut f32) -> i32,
        setResizeMode: unsafe extern "C" fn(This, i32),
        getResizeMode: unsafe extern "C" fn(This) -> i32,
        setAlignCorners: unsafe extern "C" fn(This, bool),
        getAlignCorners: unsafe extern "C" fn(This) -> bool,
    }
}

fn resize(k: &mut LayerKind) -> Result<&mut ResizeParams> {
    params!(k, LayerKind::Resize(p) => p)
}

fn resize_ref(k: &LayerKind) -> Result<&ResizeParams> {
    params!(k, LayerKind::Resize(p) => p)
}

unsafe extern "C" fn set_output_dimensions(this: This, d: Dims) {
    edit("setOutputDimensions", this, (), |k, _| {
        let p = resize(k)?;
        p.output = Some(d.sizes("outputDimensions", 1)?);
        p.scales = None;
        Ok(())
    })
}

/// The output's dimensions, whichever way they were set.
unsafe extern "C" fn get_output_dimensions(this: This) -> Dims {
    let p = read("getOutputDimensions", this, None, |k| {
        Ok(Some(resize_ref(k)?.clone()))
    });
    let Some(p) = p else {
        return Dims::default();
    };
    read_input("getOutputDimensions", this, Dims::default(), |x| {
        Dims::from_shape(&resize_shape(&p, x).map_err(Error::Network)?)
    })
}

unsafe extern "C" fn set_scales(this: This, scales: *const f32, nb: i32) {
    edit("setScales", this, (), |k, _| {
        let n = usize::try_from(nb)
            .ok()
            .filter(|n| (1..=crate::abi::dims::MAX_DIMS).contains(n))
            .ok_or_else(|| Error::InvalidArgument(format!("nbScales {nb} is outside 1..=8")))?;
        if scales.is_null() {
            crate::bail!(InvalidArgument, "argument `scales` is null");
        }
        // SAFETY: the caller passes `nbScales` floats (checked non-null and at most 8 above).
        let s = unsafe { std::slice::from_raw_parts(scales, n) }.to_vec();
        if let Some(bad) = s.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            crate::bail!(InvalidArgument, "scale {bad} in {s:?} is not positive");
        }
        let p = resize(k)?;
        p.scales = Some(s);
        p.output = None;
        Ok(())
    })
}

/// TensorRT's contract: the number of scales set (-1 when none); they are copied only when `size`
/// is that number.
unsafe extern "C" fn get_scales(this: This, size: i32, scales: *mut f32) -> i32 {
    read("getScales", this, -1, |k| {
        let Some(s) = &resize_ref(k)?.scales else {
            return Ok(-1);
        };
        if !scales.is_null() && usize::try_from(size).ok() == Some(s.len()) {
            // SAFETY: the caller's buffer holds `size` floats.
            unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), scales, s.len()) };
        }
        Ok(s.len() as i32)
    })
}

unsafe extern "C" fn set_resize_mode(this: This, v: i32) {
    edit("setResizeMode", this, (), |k, _| {
        resize(k)?.mode = enum_arg(v, ResizeMode::from_i32, "ResizeMode")?;
        Ok(())
    })
}

unsafe extern "C" fn get_resize_mode(this: This) -> i32 {
    read("getResizeMode", this, 0, |k| Ok(resize_ref(k)?.mode as i32))
}

unsafe extern "C" fn set_align_corners(this: This, v: bool) {
    edit("setAlignCorners", this, (), |k, _| {
        resize(k)?.align_corners = v;
        Ok(())
    })
}

unsafe extern "C" fn get_align_corners(this: This) -> bool {
    read("getAlignCorners", this, false, |k| {
        Ok(resize_ref(k)?.align_corners)
    })
}

pub static RESIZE: IResizeLayerVtbl = IResizeLayerVtbl {
    base: BASE,
    setOutputDimensions: set_output_dimensions,
    getOutputDimensions: get_output_dimensions,
    setScales: set_scales,
    getScales: get_scales,
    setResizeMode: set_resize_mode,
    getResizeMode: get_resize_mode,
    setAlignCorners: set_align_corners,
    getAlignCorners: get_align_corners,
};

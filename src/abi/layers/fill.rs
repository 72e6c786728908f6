//! `IFillLayer`: a generated tensor (the builder turns it into a constant).

use super::super::boundary::enum_arg;
use super::super::dims::Dims;
use super::super::layer::{BASE, ILayerVtbl, This, edit, read};
use crate::error::Result;
use crate::network::{FillParams, LayerKind};
use crate::types::FillOperation;

vtable! {
    "IFillLayer" => struct IFillLayerVtbl : ILayerVtbl {
        setDimensions: unsafe extern "C" fn(This, Dims),
        getDimensions: unsafe extern "C" fn(This) -> Dims,
        setOperation: unsafe extern "C" fn(This, i32),
        getOperation: unsafe extern "C" fn(This) -> i32,
        setAlpha: unsafe extern "C" fn(This, f64),
        getAlpha: unsafe extern "C" fn(This) -> f64,
        setBeta: unsafe extern "C" fn(This, f64),
        getBeta: unsafe extern "C" fn(This) -> f64,
    }
}

fn fill(k: &mut LayerKind) -> Result<&mut FillParams> {
    params!(k, LayerKind::Fill(p) => p)
}

fn fill_ref(k: &LayerKind) -> Result<&FillParams> {
    params!(k, LayerKind::Fill(p) => p)
}

fn finite(v: f64, what: &str) -> Result<f64> {
    if !v.is_finite() {
        crate::bail!(InvalidArgument, "{what} {v} is not finite");
    }
    Ok(v)
}

unsafe extern "C" fn set_dimensions(this: This, d: Dims) {
    edit("setDimensions", this, (), |k, _| {
        fill(k)?.dims = d.sizes("dimensions", 1)?;
        Ok(())
    })
}

unsafe extern "C" fn get_dimensions(this: This) -> Dims {
    read("getDimensions", this, Dims::default(), |k| {
        Dims::from_shape(&fill_ref(k)?.dims)
    })
}

unsafe extern "C" fn set_operation(this: This, v: i32) {
    edit("setOperation", this, (), |k, _| {
        fill(k)?.op = enum_arg(v, FillOperation::from_i32, "FillOperation")?;
        Ok(())
    })
}

unsafe extern "C" fn get_operation(this: This) -> i32 {
    read("getOperation", this, 0, |k| Ok(fill_ref(k)?.op as i32))
}

unsafe extern "C" fn set_alpha(this: This, v: f64) {
    edit("setAlpha", this, (), |k, _| {
        fill(k)?.alpha = finite(v, "alpha")?;
        Ok(())
    })
}

unsafe extern "C" fn get_alpha(this: This) -> f64 {
    read("getAlpha", this, 0.0, |k| Ok(fill_ref(k)?.alpha))
}

unsafe extern "C" fn set_beta(this: This, v: f64) {
    edit("setBeta", this, (), |k, _| {
        fill(k)?.beta = finite(v, "beta")?;
        Ok(())
    })
}

unsafe extern "C" fn get_beta(this: This) -> f64 {
    read("getBeta", this, 0.0, |k| Ok(fill_ref(k)?.beta))
}

pub static FILL: IFillLayerVtbl = IFillLayerVtbl {
    base: BASE,
    setDimensions: set_dimensions,
    getDimensions: get_dimensions,
    setOperation: set_operation,
    getOperation: get_operation,
    setAlpha: set_alpha,
    getAlpha: get_alpha,
    setBeta: set_beta,
    getBeta: get_beta,
};

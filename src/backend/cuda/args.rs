//! Kernel parameter blocks: `#[repr(C)]` mirrors of the structs that `kernels/*.cu` take by value,
//! field for field (same order and C types, so the same layout).

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct ConvArgs {
    pub x: u64,
    pub y: u64,
    pub w: u64,
    pub wq: u64,
    pub bias: u64,
    pub wscale: u64,
    pub items: i64,
    pub x_wrap: i64,
    pub c: i32,
    pub h: i32,
    pub w_: i32,
    pub k: i32,
    pub oh: i32,
    pub ow: i32,
    pub kh: i32,
    pub kw: i32,
    pub sh: i32,
    pub sw: i32,
    pub ph: i32,
    pub pw: i32,
    pub dh: i32,
    pub dw: i32,
    pub groups: i32,
    pub act: i32,
    pub alpha: f32,
    pub beta: f32,
    pub xs: f32,
    pub ys: f32,
    pub qs: f32,
    pub raw: i32,
    pub pool_h: i32,
    pub pool_w: i32,
    pub pool_sh: i32,
    pub pool_sw: i32,
    pub poh: i32,
    pub pow_: i32,
    pub ib: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct FcArgs {
    pub x: u64,
    pub y: u64,
    pub w: u64,
    pub wq: u64,
    pub bias: u64,
    pub wscale: u64,
    pub rows: i64,
    pub x_wrap: i64,
    pub kdim: i32,
    pub n: i32,
    pub act: i32,
    pub alpha: f32,
    pub beta: f32,
    pub xs: f32,
    pub ys: f32,
    pub qs: f32,
    pub raw: i32,
    pub softmax: i32,
    pub xt: i32,
    pub yt: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct PoolArgs {
    pub x: u64,
    pub y: u64,
    pub planes: i64,
    pub x_wrap: i64,
    pub h: i32,
    pub w: i32,
    pub oh: i32,
    pub ow: i32,
    pub wh: i32,
    pub ww: i32,
    pub sh: i32,
    pub sw: i32,
    pub ph: i32,
    pub pw: i32,
    pub posth: i32,
    pub postw: i32,
    pub kind: i32,
    pub blend: f32,
    pub exclude_padding: i32,
    pub xt: i32,
    pub yt: i32,
    pub xs: f32,
    pub ys: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct SoftmaxArgs {
    pub x: u64,
    pub y: u64,
    pub rows: i64,
    pub x_wrap: i64,
    pub n: i32,
    pub inner: i32,
    pub xt: i32,
    pub yt: i32,
    pub xs: f32,
    pub ys: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct MapArgs {
    pub x: u64,
    pub y: u64,
    pub n: i64,
    pub x_n: i64,
    pub op: i32,
    pub code: i32,
    pub alpha: f32,
    pub beta: f32,
    pub shift: u64,
    pub scale: u64,
    pub power: u64,
    pub run_len: i32,
    pub coefs: i32,
    pub runs: i32,
    pub xt: i32,
    pub yt: i32,
    pub xs: f32,
    pub ys: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct BinArgs {
    pub a: u64,
    pub b: u64,
    pub y: u64,
    pub n: i64,
    pub rank: i32,
    pub dims: [i32; 8],
    pub sa: [i64; 8],
    pub sb: [i64; 8],
    pub op: i32,
    pub at: i32,
    pub bt: i32,
    pub yt: i32,
    pub as_: f32,
    pub bs: f32,
    pub ys: f32,
    pub c: u64,
    pub sc: [i64; 8],
    pub ct: i32,
    pub cs: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct CopyArgs {
    pub x: u64,
    pub y: u64,
    pub rows: i64,
    pub x_wrap: i64,
    pub len: i32,
    pub row: i32,
    pub off: i32,
    pub xt: i32,
    pub yt: i32,
    pub xs: f32,
    pub ys: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct PadArgs {
    pub x: u64,
    pub y: u64,
    pub planes: i64,
    pub x_wrap: i64,
    pub h: i32,
    pub w: i32,
    pub oh: i32,
    pub ow: i32,
    pub pre_h: i32,
    pub pre_w: i32,
    pub xt: i32,
    pub yt: i32,
    pub xs: f32,
    pub ys: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct LrnArgs {
    pub x: u64,
    pub y: u64,
    pub items: i64,
    pub x_wrap: i64,
    pub c: i32,
    pub plane: i32,
    pub window: i32,
    pub alpha: f32,
    pub beta: f32,
    pub k: f32,
    pub xt: i32,
    pub yt: i32,
    pub xs: f32,
    pub ys: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct GemmArgs {
    pub x: u64,
    pub y: u64,
    pub w: u64,
    pub ktab: u64,
    pub bias: u64,
    pub wscale: u64,
    pub items: i64,
    pub x_wrap: i64,
    pub c: i32,
    pub h: i32,
    pub w_: i32,
    pub n: i32,
    pub kdim: i32,
    pub kpad: i32,
    pub npad: i32,
    pub sh: i32,
    pub sw: i32,
    pub ph: i32,
    pub pw: i32,
    pub poh: i32,
    pub pow_: i32,
    pub pool_h: i32,
    pub pool_w: i32,
    pub pool_sh: i32,
    pub pool_sw: i32,
    pub act: i32,
    pub alpha: f32,
    pub beta: f32,
    pub xs: f32,
    pub ys: f32,
    pub qs: f32,
    pub raw: i32,
    pub softmax: i32,
    pub dense: i32,
    pub inside: i32,
    pub emul: u64,
    pub eadd: u64,
    pub splits: i32,
    pub kps: i32,
    pub part: u64,
    pub counters: u64,
    pub woff: u64,
    pub cp: i32,
    pub wsx: i32,
    pub ib: i32,
    pub item_bytes: i32,
    pub kwords: i32,
    pub kvalid: i32,
    pub nt: i32,
    pub zero: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct StridedArgs {
    pub x: u64,
    pub y: u64,
    pub n: i64,
    pub per_item: i64,
    pub x_item: i64,
    pub x_wrap: i64,
    pub base: i64,
    pub rank: i32,
    pub mid_rank: i32,
    pub dims: [i32; 8],
    pub mid_dims: [i32; 8],
    pub strides: [i64; 8],
    pub mid_strides: [i64; 8],
    pub xt: i32,
    pub yt: i32,
    pub xs: f32,
    pub ys: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct GatherArgs {
    pub x: u64,
    pub idx: u64,
    pub y: u64,
    pub n: i64,
    pub x_wrap: i64,
    pub idx_wrap: i64,
    pub outer: i32,
    pub len: i32,
    pub inner: i32,
    pub nidx: i32,
    pub xt: i32,
    pub it: i32,
    pub yt: i32,
    pub xs: f32,
    pub is: f32,
    pub ys: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct ReduceArgs {
    pub x: u64,
    pub y: u64,
    pub n: i64,
    pub x_wrap: i64,
    pub x_item: i64,
    pub per_item: i64,
    pub count: i64,
    pub op: i32,
    pub kept: i32,
    pub reduced: i32,
    pub kdims: [i32; 8],
    pub rdims: [i32; 8],
    pub kstrides: [i64; 8],
    pub rstrides: [i64; 8],
    pub xt: i32,
    pub yt: i32,
    pub xs: f32,
    pub ys: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct TopkArgs {
    pub x: u64,
    pub values: u64,
    pub indices: u64,
    pub rows: i64,
    pub x_wrap: i64,
    pub n: i32,
    pub inner: i32,
    pub k: i32,
    pub max: i32,
    pub xt: i32,
    pub vt: i32,
    pub it: i32,
    pub xs: f32,
    pub vs: f32,
    pub is: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct MatmulArgs {
    pub a: u64,
    pub b: u64,
    pub y: u64,
    pub n: i64,
    pub a_item: i64,
    pub b_item: i64,
    pub rank: i32,
    pub lead: [i32; 8],
    pub sa: [i64; 8],
    pub sb: [i64; 8],
    pub m: i32,
    pub cols: i32,
    pub k: i32,
    pub a_rs: i32,
    pub a_cs: i32,
    pub b_rs: i32,
    pub b_cs: i32,
    pub at: i32,
    pub bt: i32,
    pub yt: i32,
    pub as_: f32,
    pub bs: f32,
    pub ys: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct DeconvArgs {
    pub x: u64,
    pub y: u64,
    pub w: u64,
    pub bias: u64,
    pub items: i64,
    pub x_wrap: i64,
    pub c: i32,
    pub h: i32,
    pub w_: i32,
    pub k: i32,
    pub oh: i32,
    pub ow: i32,
    pub kh: i32,
    pub kw: i32,
    pub sh: i32,
    pub sw: i32,
    pub ph: i32,
    pub pw: i32,
    pub dh: i32,
    pub dw: i32,
    pub groups: i32,
    pub xt: i32,
    pub yt: i32,
    pub xs: f32,
    pub ys: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct CalibArgs {
    pub x: u64,
    pub absmax: u64,
    pub bins: u64,
    pub n: i64,
    pub range: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct ChainConvArgs {
    pub x: u64,
    pub y: u64,
    pub blob: u64,
    pub items: i64,
    pub qs: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct ChainFcArgs {
    pub x: u64,
    pub y: u64,
    pub w1: u64,
    pub emul1: u64,
    pub eadd1: u64,
    pub w2: u64,
    pub emul2: u64,
    pub eadd2: u64,
    pub acc: u64,
    pub tickets: u64,
    pub items: i64,
}

//! Which instruction set the INT8 integer GEMM runs on. Every path computes the same `i32`
//! accumulations (exact sums of INT8 products: `i16` pairs, or on AVX512-VNNI byte quads with
//! zero points, see `igemm.rs`), so the choice changes speed, never a bit: the best one the CPU has is used, and `INFER8_CPU_ISA` (read once) or [`set_int8_isa`]
//! forces another, so that machines without VNNI still test the AVX2 and portable paths and VNNI
//! machines compare all of them.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int8Isa {
    Portable,
    /// `vpmaddwd` then `vpaddd`, 8 lanes.
    Avx2,
    /// `vpdpwssd` on ymm (AVX-VNNI, e.g. Alder Lake): the same pair products, fused into the add.
    AvxVnni,
    /// `vpdpbusd` on zmm (AVX512-VNNI, e.g. Cascade Lake, Zen 4): 16 lanes of four byte products
    /// per instruction, for layers built on this path; `vpdpwssd` on pairs for the others.
    Avx512Vnni,
}

impl Int8Isa {
    /// Slowest first; `best` takes the last available one.
    pub const ALL: [Int8Isa; 4] = [
        Int8Isa::Portable,
        Int8Isa::Avx2,
        Int8Isa::AvxVnni,
        Int8Isa::Avx512Vnni,
    ];

    /// The value `INFER8_CPU_ISA` takes for this path.
    pub fn env_name(self) -> &'static str {
        match self {
            Int8Isa::Portable => "portable",
            Int8Isa::Avx2 => "avx2",
            Int8Isa::AvxVnni => "avxvnni",
            Int8Isa::Avx512Vnni => "avx512vnni",
        }
    }

    /// The kernel's name for the log.
    pub fn kernel_name(self) -> &'static str {
        match self {
            Int8Isa::Portable => "portable",
            Int8Isa::Avx2 => "AVX2 vpmaddwd",
            Int8Isa::AvxVnni => "AVX-VNNI vpdpwssd",
            Int8Isa::Avx512Vnni => "AVX512-VNNI vpdpbusd",
        }
    }

    pub fn available(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                Int8Isa::Portable => true,
                Int8Isa::Avx2 => is_x86_feature_detected!("avx2"),
                Int8Isa::AvxVnni => {
                    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("avxvnni")
                }
                Int8Isa::Avx512Vnni => {
                    is_x86_feature_detected!("avx2")
                        && is_x86_feature_detected!("avx512f")
                        && is_x86_feature_detected!("avx512vnni")
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == Int8Isa::Portable
        }
    }

    fn best() -> Int8Isa {
        Int8Isa::ALL
            .into_iter()
            .rev()
            .find(|i| i.available())
            .unwrap_or(Int8Isa::Portable)
    }

    /// `INFER8_CPU_ISA`: one of the `env_name`s, or `vnni` for the best VNNI path. A value this
    /// CPU cannot run (or does not know) falls back to the best path, with the reason.
    fn from_env(asked: Option<&str>) -> (Int8Isa, Option<String>) {
        let Some(asked) = asked else {
            return (Int8Isa::best(), None);
        };
        let asked = asked.trim().to_ascii_lowercase();
        let wanted = if asked == "vnni" {
            [Int8Isa::Avx512Vnni, Int8Isa::AvxVnni]
                .into_iter()
                .find(|i| i.available())
                .ok_or("this CPU has neither AVX512-VNNI nor AVX-VNNI")
        } else {
            match Int8Isa::ALL.into_iter().find(|i| i.env_name() == asked) {
                Some(i) if i.available() => Ok(i),
                Some(_) => Err("this CPU lacks it"),
                None => Err("not one of portable, avx2, avxvnni, avx512vnni, vnni"),
            }
        };
        match wanted {
            Ok(i) => (i, None),
            Err(why) => (
                Int8Isa::best(),
                Some(format!("INFER8_CPU_ISA={asked} ignored ({why})")),
            ),
        }
    }
}

/// The env choice, made once: (path, why the env var was ignored).
fn from_env() -> &'static (Int8Isa, Option<String>) {
    static ENV: OnceLock<(Int8Isa, Option<String>)> = OnceLock::new();
    ENV.get_or_init(|| Int8Isa::from_env(std::env::var("INFER8_CPU_ISA").ok().as_deref()))
}

/// 0: not overridden; otherwise 1 + the index in `Int8Isa::ALL`.
static OVERRIDE: AtomicU8 = AtomicU8::new(0);

/// The path INT8 layers run on now.
pub fn int8_isa() -> Int8Isa {
    match OVERRIDE.load(Ordering::Relaxed) {
        0 => from_env().0,
        i => Int8Isa::ALL[usize::from(i) - 1],
    }
}

/// Forces `isa` for every INT8 layer of the process from now on (`None`: back to the
/// environment's choice). Refuses a path this CPU cannot run.
pub fn set_int8_isa(isa: Option<Int8Isa>) -> Result<(), String> {
    let value = match isa {
        None => 0,
        Some(i) if i.available() => {
            1 + Int8Isa::ALL.iter().position(|&a| a == i).unwrap_or(0) as u8
        }
        Some(i) => return Err(format!("this CPU cannot run the {i:?} INT8 kernels")),
    };
    OVERRIDE.store(value, Ordering::Relaxed);
    Ok(())
}

/// The kernel INT8 layers run, for the log; says when `INFER8_CPU_ISA` was ignored.
pub fn kernel_name() -> String {
    let name = int8_isa().kernel_name();
    match &from_env().1 {
        Some(why) if OVERRIDE.load(Ordering::Relaxed) == 0 => format!("{name}; {why}"),
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_choose_a_path_this_cpu_can_run() {
        assert_eq!(Int8Isa::from_env(None), (Int8Isa::best(), None));
        assert_eq!(Int8Isa::from_env(Some(" Portable ")).0, Int8Isa::Portable);
        for isa in Int8Isa::ALL {
            let (got, why) = Int8Isa::from_env(Some(isa.env_name()));
            assert!(got.available());
            assert_eq!(got == isa, isa.available(), "{isa:?}");
            assert_eq!(why.is_some(), !isa.available(), "{isa:?}");
        }
        let (got, why) = Int8Isa::from_env(Some("vnni"));
        assert!(got.available());
        let has_vnni = Int8Isa::AvxVnni.available() || Int8Isa::Avx512Vnni.available();
        assert_eq!(why.is_none(), has_vnni);
        let (_, why) = Int8Isa::from_env(Some("sse9"));
        assert!(
            why.unwrap()
                .contains("INFER8_CPU_ISA=sse9 ignored (not one of")
        );
    }
}

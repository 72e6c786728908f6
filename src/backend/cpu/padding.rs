//! Zero padding (negative amounts crop) of the last two dimensions.

use super::{In, Out, par_rows};

pub struct Padding {
    planes: usize,
    hw: [usize; 2],
    out: [usize; 2],
    pre: [i64; 2],
}

impl Padding {
    pub fn new(pre: [i64; 2], input: &[usize], output: &[usize]) -> Padding {
        let (n, m) = (input.len(), output.len());
        Padding {
            planes: input[..n - 2].iter().product(),
            hw: [input[n - 2], input[n - 1]],
            out: [output[m - 2], output[m - 1]],
            pre,
        }
    }

    pub fn run(&self, batch: usize, x: &In, y: &mut Out) {
        let ([h, w], [oh, ow]) = (self.hw, self.out);
        par_rows(y.data, batch * self.planes, oh * ow, |plane, out| {
            let src = x.item_of(plane, self.planes, h * w);
            for (oy, row) in out.chunks_exact_mut(ow).enumerate() {
                let iy = oy as i64 - self.pre[0];
                for (ox, o) in row.iter_mut().enumerate() {
                    let ix = ox as i64 - self.pre[1];
                    let inside = (0..h as i64).contains(&iy) && (0..w as i64).contains(&ix);
                    *o = if inside {
                        src[iy as usize * w + ix as usize]
                    } else {
                        0.0
                    };
                }
            }
        });
    }
}

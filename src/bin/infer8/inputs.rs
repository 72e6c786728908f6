//! Input data for calibrate/run/time/inspect: MNIST IDX files, sampleINT8 batch files, `.npy`
//! arrays or a folder of images, as one array of items plus optional labels.

use std::path::{Path, PathBuf};

use infer8::data::{batch_file, mnist};
use infer8::error::{Error, Result};

#[derive(clap::Args, Clone, Default)]
pub struct InputArgs {
    /// MNIST IDX image file (optionally .gz); pixels scaled by 1/255
    #[arg(long)]
    pub mnist_images: Option<PathBuf>,
    /// MNIST IDX label file (optionally .gz)
    #[arg(long)]
    pub mnist_labels: Option<PathBuf>,
    /// Folder of sampleINT8 batch files (DIR/batchN or DIR/batches/batchN)
    #[arg(long)]
    pub batches: Option<PathBuf>,
    /// A float32 .npy array whose first dimension is the item
    #[arg(long)]
    pub npy: Option<PathBuf>,
    /// A folder of PNG/JPEG/PGM images (sorted by name), converted to planar float
    #[arg(long)]
    pub images: Option<PathBuf>,
    /// Images: value subtracted from every pixel (one value, or one per channel: "104,117,123")
    #[arg(long, default_value = "0")]
    pub mean: String,
    /// Images: factor applied after the mean
    #[arg(long, default_value_t = 1.0)]
    pub scale: f32,
    /// Images: channel order BGR (Caffe's) instead of RGB
    #[arg(long)]
    pub bgr: bool,
    /// First item to use
    #[arg(long, default_value_t = 0)]
    pub first: usize,
    /// Number of items (default: all after --first)
    #[arg(long)]
    pub count: Option<usize>,
}

pub struct Inputs {
    /// `count * item` values.
    pub data: Vec<f32>,
    pub count: usize,
    pub labels: Option<Vec<usize>>,
}

impl InputArgs {
    pub fn given(&self) -> bool {
        self.mnist_images.is_some()
            || self.batches.is_some()
            || self.npy.is_some()
            || self.images.is_some()
    }

    /// Loads the chosen source; `item` is the engine input's volume (checked against the data).
    pub fn load(&self, item: usize) -> Result<Inputs> {
        let (data, labels) = if let Some(p) = &self.mnist_images {
            let images = mnist::read_images(p)?;
            let labels = self
                .mnist_labels
                .as_deref()
                .map(mnist::read_labels)
                .transpose()?;
            (
                images.normalized(0, images.count),
                labels.map(|l| l.into_iter().map(usize::from).collect()),
            )
        } else if let Some(dir) = &self.batches {
            read_batches(dir)?
        } else if let Some(p) = &self.npy {
            (read_npy(p)?, None)
        } else if let Some(dir) = &self.images {
            (self.read_images(dir, item)?, None)
        } else {
            infer8::bail!(
                InvalidArgument,
                "no input: give --mnist-images, --batches, --npy or --images"
            );
        };
        if item == 0 || data.len() % item != 0 {
            infer8::bail!(
                InvalidArgument,
                "the input holds {} values, not a whole number of items of {item}",
                data.len()
            );
        }
        let total = data.len() / item;
        let count = self.count.unwrap_or(total.saturating_sub(self.first));
        if count == 0 || self.first + count > total {
            infer8::bail!(
                InvalidArgument,
                "--first {} --count {count} is outside the {total} items of the input",
                self.first
            );
        }
        let labels = labels.map(|l| l[self.first..(self.first + count).min(l.len())].to_vec());
        Ok(Inputs {
            data: data[self.first * item..(self.first + count) * item].to_vec(),
            count,
            labels,
        })
    }

    fn read_images(&self, dir: &Path, item: usize) -> Result<Vec<f32>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::Io(format!("--images {}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let ext = p
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "pgm" | "ppm")
            })
            .collect();
        files.sort();
        let means: Vec<f32> = self
            .mean
            .split(',')
            .map(|m| {
                m.trim().parse().map_err(|_| {
                    Error::InvalidArgument(format!("--mean {}: not a number list", self.mean))
                })
            })
            .collect::<Result<_>>()?;
        let mut out = Vec::with_capacity(files.len() * item);
        for f in &files {
            let img = image::open(f).map_err(|e| Error::Format(format!("{}: {e}", f.display())))?;
            let (w, h) = (img.width() as usize, img.height() as usize);
            let channels = if item == w * h {
                1
            } else if item == 3 * w * h {
                3
            } else {
                infer8::bail!(
                    InvalidArgument,
                    "{}: a {w}x{h} image does not fit the engine input of {item} values",
                    f.display()
                );
            };
            let pixels: Vec<u8> = if channels == 1 {
                img.to_luma8().into_raw()
            } else {
                img.to_rgb8().into_raw()
            };
            for c in 0..channels {
                let src = if self.bgr && channels == 3 { 2 - c } else { c };
                let mean = means.get(c).or(means.first()).copied().unwrap_or(0.0);
                out.extend(
                    (0..w * h).map(|i| (pixels[i * channels + src] as f32 - mean) * self.scale),
                );
            }
        }
        Ok(out)
    }
}

fn read_batches(dir: &Path) -> Result<(Vec<f32>, Option<Vec<usize>>)> {
    let dir = if dir.join("batches").is_dir() {
        dir.join("batches")
    } else {
        dir.to_path_buf()
    };
    let (mut data, mut labels) = (Vec::new(), Vec::new());
    let mut n = 0;
    while dir.join(format!("batch{n}")).is_file() {
        let b = batch_file::read(&dir.join(format!("batch{n}")))?;
        data.extend(b.data);
        labels.extend(b.labels.iter().map(|&l| l as usize));
        n += 1;
    }
    if n == 0 {
        infer8::bail!(
            InvalidArgument,
            "--batches {}: no batch0 file",
            dir.display()
        );
    }
    let complete = labels.len() * (data.len() / labels.len().max(1)) == data.len();
    Ok((data, (complete && !labels.is_empty()).then_some(labels)))
}

/// A little-endian float32, C-order `.npy` array (numpy's format, versions 1-3).
pub fn read_npy(path: &Path) -> Result<Vec<f32>> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
    let bad = |why: &str| Error::Format(format!("{}: {why}", path.display()));
    if !bytes.starts_with(b"\x93NUMPY") || bytes.len() < 10 {
        return Err(bad("not an .npy file"));
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(bad("truncated header")),
    };
    let header = bytes
        .get(start..start + len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| bad("bad header"))?;
    if !header.contains("'descr': '<f4'") || !header.contains("'fortran_order': False") {
        return Err(bad("only little-endian float32 C-order arrays are read"));
    }
    let body = &bytes[start + len..];
    if body.len() % 4 != 0 {
        return Err(bad("data is not a whole number of float32"));
    }
    Ok(body
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

pub fn write_npy(path: &Path, shape: &[usize], values: &[f32]) -> Result<()> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    values
        .iter()
        .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    std::fs::write(path, out).map_err(|e| Error::Io(format!("{}: {e}", path.display())))
}

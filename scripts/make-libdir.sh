#!/usr/bin/env bash
# make-libdir.sh LIBINFER8_SO OUTDIR
#
# Lays out a TensorRT-style library folder for infer8 in OUTDIR:
#   libnvinfer.so.5            copy of libinfer8.so (its soname is libnvinfer.so.5)
#   libnvinfer.so              -> libnvinfer.so.5
#   libnvparsers.so(.5)        -> libnvinfer.so.5   (Caffe parser)
#   libnvcaffe_parser.so(.5)   -> libnvinfer.so.5   (older name of the parser library)
#   libnvinfer_plugin.so(.5)   -> libnvinfer.so.5   (plugin library)
#   libnvonnxparser.so(.5)     -> libnvinfer.so.5   (ONNX parser)
# Programs link with -L OUTDIR -lnvinfer -lnvcaffe_parser (or -lnvonnxparser) -lnvinfer_plugin and run with
# OUTDIR on their rpath or LD_LIBRARY_PATH. Also usable to "install" infer8 anywhere.
set -euo pipefail

if [ "$#" -ne 2 ]; then
    echo "usage: $0 <path/to/libinfer8.so> <outdir>" >&2
    exit 2
fi
src=$1
out=$2
if [ ! -f "$src" ]; then
    echo "make-libdir: $src: no such file (build it with: cargo build --release)" >&2
    exit 1
fi

mkdir -p "$out"
tmp="$out/.libnvinfer.so.5.tmp.$$"
cp -f "$src" "$tmp"
mv -f "$tmp" "$out/libnvinfer.so.5"   # atomic replace: running programs keep the old inode

link() { ln -sfn "$1" "$out/$2"; }
link libnvinfer.so.5 libnvinfer.so
for name in libnvparsers libnvcaffe_parser libnvinfer_plugin libnvonnxparser; do
    link libnvinfer.so.5 "$name.so.5"
    link "$name.so.5" "$name.so"
done
echo "make-libdir: $out ready (libnvinfer.so.5 from $src)"

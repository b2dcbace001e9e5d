#!/usr/bin/env python3
"""Tiny NIfTI fixtures written by nibabel, for test/data_nifti.test.ts.

segloss's NIfTI reader (src/data/nifti.ts) is tested against its own writer (test/helpers/nifti.ts)
for every convention; these files prove that it also reads what a real writer writes, and that its
axis order, scaling and spacing agree with nibabel's reading of the same file.

Writes into test/fixtures/nifti/:
  v1_int16_scaled.nii.gz   NIfTI-1, little-endian, gzip, int16 with scl_slope 0.5 / scl_inter -10,
                           x5 y4 z3, zooms 0.8 0.9 2.5 mm, a comment extension (vox_offset > 352)
  v1_float32_be_4d.nii     NIfTI-1, big-endian, float32, x4 y3 z2 t2 (2 channels)
  v2_uint16_2d.nii.gz      NIfTI-2, little-endian, gzip, uint16, x6 y5 (2D), values up to 65535
  expected.json            for each file: version, byte order, data type, segloss's shape
                           [z, y, x], channels, spacing [z, y, x] in mm, and every value in segloss's
                           layout (channels last: [z][y][x][c]), all as nibabel reads them back

Every voxel's stored value encodes its position (100 z + 10 y + x, + 1000 c), so a swapped axis
shows in the values. The expected values come from nibabel's own reading (get_fdata, then float32,
segloss's precision), transposed by numpy, not from segloss.

Setup (Debian 12; no pip):

    apt-get install python3-nibabel        # nibabel 5.0.0, numpy 1.24
    /usr/bin/python3 scripts/nifti-fixtures.py
"""
import json
import os

import nibabel as nib
import numpy as np
from nibabel.openers import ImageOpener

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'nifti')


def position_values(shape, offset=0.0):
    """value[x, y, z, c] = 100 z + 10 y + x + 1000 c + offset, for an array indexed as nibabel does."""
    grids = np.meshgrid(*[np.arange(n) for n in shape], indexing='ij')
    weights = [1, 10, 100, 1000]
    return sum(w * g for w, g in zip(weights, grids)) + offset


def write(name, header, data):
    """Writes data (indexed [x, y, z, ...], as nibabel does) with this header, unscaled.

    The header API rather than nib.save: nib.save recomputes scl_slope / scl_inter from the data,
    while a fixture with a chosen slope and intercept must keep them.
    """
    path = os.path.join(OUT, name)
    header.set_data_shape(data.shape)
    with ImageOpener(path, 'wb') as f:  # gzips by the .gz suffix, with mtime 0: reproducible bytes
        header.write_to(f)
        header.data_to_fileobj(data, f, rescale=False)
    return path


def expected(name, path):
    """What nibabel reads back, in segloss's conventions."""
    img = nib.load(path)
    hdr = img.header
    values = img.get_fdata(dtype=np.float64)
    if values.ndim == 2:
        values = values[:, :, np.newaxis]
    if values.ndim == 3:
        values = values[..., np.newaxis]
    channels_last = np.transpose(values, (2, 1, 0, 3)).astype(np.float32)  # [x, y, z, c] → [z, y, x, c]
    zooms = list(hdr.get_zooms()) + [1.0] * 3
    with open(path, 'rb') as f:
        head = f.read(2)
    return {
        'file': name,
        'writer': f'nibabel {nib.__version__}',
        'gzip': head == b'\x1f\x8b',
        'version': 2 if isinstance(hdr, nib.Nifti2Header) else 1,
        'littleEndian': hdr.endianness == '<',
        'datatype': str(hdr.get_data_dtype().newbyteorder('=')),
        'slope': float(img.dataobj.slope),
        'inter': float(img.dataobj.inter),
        'shape': [int(n) for n in channels_last.shape[:3]],
        'channels': int(channels_last.shape[3]),
        'spacing': [float(zooms[2]), float(zooms[1]), float(zooms[0])],
        'values': [float(v) for v in channels_last.ravel()],
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = []  # (file name, header, stored values indexed [x, y, z, ...])

    hdr = nib.Nifti1Header(endianness='<')
    hdr.set_data_dtype(np.int16)
    raw = (position_values((5, 4, 3)) - 50).astype(np.int16)
    hdr.set_data_shape(raw.shape)
    hdr.set_zooms((0.8, 0.9, 2.5))
    hdr.set_xyzt_units('mm')
    hdr.set_slope_inter(0.5, -10)
    hdr.extensions.append(nib.nifti1.Nifti1Extension('comment', b'segloss test fixture'))
    cases.append(('v1_int16_scaled.nii.gz', hdr, raw))

    hdr = nib.Nifti1Header(endianness='>')
    hdr.set_data_dtype(np.float32)
    raw = position_values((4, 3, 2, 2), offset=0.25).astype(np.float32)
    hdr.set_data_shape(raw.shape)
    hdr.set_zooms((1.5, 1.25, 3.0, 1.0))
    hdr.set_xyzt_units('mm', 'sec')
    cases.append(('v1_float32_be_4d.nii', hdr, raw))

    hdr = nib.Nifti2Header(endianness='<')
    hdr.set_data_dtype(np.uint16)
    raw = (position_values((6, 5)) * 1000 + 1000).astype(np.uint16)
    raw[5, 4] = 65535  # the top of the range: read as unsigned or not at all
    hdr.set_data_shape(raw.shape)
    hdr.set_zooms((0.5, 0.7))
    hdr.set_xyzt_units('mm')
    cases.append(('v2_uint16_2d.nii.gz', hdr, raw))

    fixtures = [expected(name, write(name, header, raw)) for name, header, raw in cases]
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'generatedBy': 'scripts/nifti-fixtures.py', 'fixtures': fixtures}, f, indent=1)
        f.write('\n')
    for c in fixtures:
        print(f"{c['file']}: NIfTI-{c['version']} {c['datatype']} shape {c['shape']} × {c['channels']}, spacing {c['spacing']}")


if __name__ == '__main__':
    main()

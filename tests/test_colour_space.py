"""Colour conversions and differences against published reference values."""

from __future__ import annotations

import numpy as np
import pytest

from monoculture.metrics import delta_e_76, delta_e_2000, hex_to_srgb, srgb_to_hex, srgb_to_lab

# Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes, supplementary
# test data, and mathematical observations", Color Res. Appl. 30(1), Table 1: L1 a1 b1, L2 a2 b2, ΔE00.
SHARMA_2005 = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]


def test_ciede2000_matches_all_34_sharma_pairs_vectorised_and_symmetric():
    table = np.array(SHARMA_2005)
    lab1, lab2, expected = table[:, 0:3], table[:, 3:6], table[:, 6]
    assert len(table) == 34
    np.testing.assert_allclose(delta_e_2000(lab1, lab2), expected, atol=1e-4)
    np.testing.assert_allclose(delta_e_2000(lab2, lab1), expected, atol=1e-4)


def test_delta_e_76_is_euclidean_distance_in_lab():
    # 3-4-5 and 1-2-2-3 right triangles, computed by hand
    lab1 = np.array([[50.0, 0.0, 0.0], [0.0, 0.0, 0.0], [20.0, -5.0, 7.0]])
    lab2 = np.array([[53.0, 4.0, 0.0], [1.0, 2.0, 2.0], [20.0, -5.0, 7.0]])
    np.testing.assert_allclose(delta_e_76(lab1, lab2), [5.0, 3.0, 0.0])


def test_delta_e_broadcasts_to_a_pairwise_matrix():
    lab = np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0], [0.0, 0.0, 10.0]])
    matrix = delta_e_76(lab[:, None, :], lab[None, :, :])
    assert matrix.shape == (3, 3)
    np.testing.assert_allclose(matrix, [[0, 5, 10], [5, 0, np.sqrt(9 + 16 + 100)], [10, np.sqrt(125), 0]])


@pytest.mark.parametrize(
    ("srgb", "lab"),
    [
        ((255, 255, 255), (100.0, 0.0, 0.0)),  # the D65 white point
        ((0, 0, 0), (0.0, 0.0, 0.0)),
        ((255, 0, 0), (53.2408, 80.0925, 67.2032)),  # sRGB red under D65 (Lindbloom's calculator)
        ((128, 128, 128), (53.5850, 0.0, 0.0)),
    ],
)
def test_srgb_to_lab_uses_d65(srgb, lab):
    # Published sRGB matrices differ in their 4th-5th digit (IEC 61966-2-1 vs matrices derived from the
    # primaries), which moves Lab by up to ~0.03; a D50 white or a missing transfer function moves it by units.
    np.testing.assert_allclose(srgb_to_lab(np.array(srgb)), lab, atol=0.05)


def test_srgb_to_lab_keeps_leading_axes():
    assert srgb_to_lab(np.zeros((4, 2, 3))).shape == (4, 2, 3)
    with pytest.raises(ValueError):
        srgb_to_lab(np.zeros((4, 2)))


@pytest.mark.parametrize(
    ("code", "rgb"),
    [("#000000", (0, 0, 0)), ("#FFFFFF", (255, 255, 255)), ("#1a2B3c", (26, 43, 60)), ("ff8000", (255, 128, 0))],
)
def test_hex_to_srgb(code, rgb):
    assert hex_to_srgb(code) == rgb


@pytest.mark.parametrize("code", ["#12345", "#1234567", "#gg0000", "red", "", "# 123456"])
def test_hex_to_srgb_rejects_anything_but_six_hex_digits(code):
    with pytest.raises(ValueError):
        hex_to_srgb(code)


def test_srgb_to_hex_round_trips_and_checks_range():
    assert srgb_to_hex(26, 43, 60) == "#1a2b3c"
    assert hex_to_srgb(srgb_to_hex(255, 128, 0)) == (255, 128, 0)
    with pytest.raises(ValueError):
        srgb_to_hex(256, 0, 0)


def test_importing_metrics_does_not_import_colour_science():
    import subprocess
    import sys

    code = "import sys, monoculture.metrics, monoculture.reference; print('colour' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"

//! QR codes as SVG path data, so a certificate carries its code inline: no image file, no
//! script, and nothing for the template to leave unescaped.

use qrcode::{Color, EcLevel, QrCode};

/// Modules of light margin around the code (the standard's quiet zone).
pub const QUIET_ZONE: usize = 4;

/// A QR code drawn as one SVG path of dark runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrSvg {
    /// Width and height in modules, quiet zone included.
    pub size: usize,
    /// `M{x},{y}h{n}v1h-{n}z` for each horizontal run of dark modules.
    pub path: String,
}

/// Encodes `text` (medium error correction: a printed copy survives a crease or a smudge).
pub fn encode(text: &str) -> Result<QrSvg, String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| format!("cannot encode a QR code: {e}"))?;
    let width = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let run = row[x..].iter().take_while(|c| **c == Color::Dark).count();
                let (px, py) = (x + QUIET_ZONE, y + QUIET_ZONE);
                path.push_str(&format!("M{px},{py}h{run}v1h-{run}z"));
                x += run;
            } else {
                x += 1;
            }
        }
    }
    Ok(QrSvg { size: width + 2 * QUIET_ZONE, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dark modules a path of [`encode`] draws, as a `size`×`size` grid (row by row).
    fn modules(size: usize, path: &str) -> Vec<bool> {
        let mut grid = vec![false; size * size];
        for run in path.split('z').filter(|r| !r.is_empty()) {
            let nums: Vec<usize> = run
                .split(|c: char| !c.is_ascii_digit())
                .filter(|n| !n.is_empty())
                .filter_map(|n| n.parse().ok())
                .collect();
            if let [x, y, n, ..] = nums[..] {
                for dx in 0..n {
                    if let Some(m) = grid.get_mut(y * size + x + dx) {
                        *m = true;
                    }
                }
            }
        }
        grid
    }

    /// Draws the path at 4 pixels a module and reads it back with an independent decoder.
    fn decode(qr: &QrSvg) -> String {
        let grid = modules(qr.size, &qr.path);
        let px = qr.size * 4;
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(px, px, |x, y| {
            if grid[(y / 4) * qr.size + x / 4] {
                0
            } else {
                255
            }
        });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code in the picture");
        grids[0].decode().expect("decodes").1
    }

    #[test]
    fn the_drawn_code_decodes_to_the_text() {
        for url in [
            "http://127.0.0.1:8080/register/licences/CCL-2026-000001-16",
            "https://register.pta.gov.pk/ccreg/register/licences/CCL-2031-123456-07",
        ] {
            assert_eq!(decode(&encode(url).unwrap()), url);
        }
    }

    #[test]
    fn the_path_is_only_numbers_and_drawing_commands() {
        let qr = encode("http://127.0.0.1:8080/register/licences/CCL-2026-000001-16").unwrap();
        assert!(qr.path.chars().all(|c| c.is_ascii_digit() || "Mhvz,-".contains(c)));
        assert!(qr.size >= 21 + 2 * QUIET_ZONE, "the smallest code has 21 modules, plus margins");
    }
}

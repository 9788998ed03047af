//! Gives each static asset a content hash, so its URL changes when it does and it can be
//! cached for a year; and rebuilds when a migration is added, which `embed_migrations!`
//! reads but cargo does not watch.

use std::fs;

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    for (file, var) in [
        ("static/style.css", "STYLE_CSS_HASH"),
        ("static/icon.svg", "ICON_SVG_HASH"),
    ] {
        println!("cargo:rerun-if-changed={file}");
        let bytes = fs::read(file).unwrap_or_default();
        println!(
            "cargo:rustc-env={var}={:012x}",
            fnv1a(&bytes) & 0xffff_ffff_ffff
        );
    }
}

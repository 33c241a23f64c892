//! The default device paths that pmt and pmtx use, driven by the
//! environment (one test in its own binary: it sets process variables).

use ptape::config::{self, ChangerConfig, Config, DriveConfig};

#[test]
fn default_paths_follow_config_else_embedded_library() {
    let tmp = tempfile::tempdir().unwrap();
    std::env::set_var("PTAPE_CONFIG_DIR", tmp.path().join("cfg"));
    std::env::set_var("PTAPE_DATA_DIR", tmp.path().join("data"));

    // No configuration: the embedded library, created on demand.
    let drive = config::default_drive_path().unwrap().unwrap();
    let changer = config::default_changer_path().unwrap().unwrap();
    assert_eq!(
        drive,
        tmp.path().join("data/library/drive0").to_str().unwrap()
    );
    assert_eq!(
        changer,
        tmp.path().join("data/library/changer").to_str().unwrap()
    );
    assert!(pbs_tape::emulator::is_emulated_device(
        std::path::Path::new(&drive)
    ));
    assert!(pbs_tape::emulator::is_emulated_device(
        std::path::Path::new(&changer)
    ));
    assert_eq!(
        config::catalog_path().unwrap(),
        tmp.path().join("data/catalog.db")
    );

    // A configured drive and changer win.
    let mut cfg = Config::default();
    cfg.add_changer(ChangerConfig {
        name: "lib".into(),
        path: "/dev/sg7".into(),
        export_slots: Vec::new(),
    })
    .unwrap();
    cfg.add_drive(DriveConfig {
        name: "d".into(),
        path: "/dev/sg6".into(),
        changer: Some("lib".into()),
        changer_drivenum: None,
        auto_clean: false,
    })
    .unwrap();
    config::save_config(&cfg).unwrap();
    assert_eq!(config::load_config().unwrap(), cfg);
    assert_eq!(
        config::default_drive_path().unwrap().as_deref(),
        Some("/dev/sg6")
    );
    assert_eq!(
        config::default_changer_path().unwrap().as_deref(),
        Some("/dev/sg7")
    );

    // A broken file is a clear error naming it.
    std::fs::write(tmp.path().join("cfg/config.toml"), "drive = 3\n").unwrap();
    let err = config::default_drive_path().unwrap_err().to_string();
    assert!(err.contains("config.toml"), "{err}");
}

//! Device path resolution and discovery against a fake sysfs tree built
//! like the kernel's (class links into /sys/devices/.../H:C:T:L).

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use pbs_tape::scsi::devpath::resolve_sg_path;
use pbs_tape::scsi::discovery::{scan, DeviceKind};
use pbs_tape::scsi::DeviceError;

struct FakeSystem {
    _dir: tempfile::TempDir,
    sys: PathBuf,
    dev: PathBuf,
}

/// One SCSI device: fixture name, H:C:T:L, sg number, class nodes.
struct Dev {
    fixture: &'static str,
    addr: &'static str,
    sg: u32,
    tape: Option<u32>,
    changer: Option<u32>,
}

fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sysfs")
        .join(name)
}

/// Create `class/<class>/<node>` -> device dir entry and its `device` link
/// (`.../H:C:T:L/<class>/<node>/device -> ../../../H:C:T:L`, as the kernel does).
fn class_node(sys: &Path, dev_rel: &str, class: &str, node: &str) {
    let node_dir = sys.join(dev_rel).join(class).join(node);
    fs::create_dir_all(&node_dir).unwrap();
    let addr = dev_rel.rsplit('/').next().unwrap();
    symlink(format!("../../../{addr}"), node_dir.join("device")).unwrap();
    let class_dir = sys.join("class").join(class);
    fs::create_dir_all(&class_dir).unwrap();
    symlink(
        Path::new("../..").join(dev_rel).join(class).join(node),
        class_dir.join(node),
    )
    .unwrap();
}

fn build() -> FakeSystem {
    let dir = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(dir.path()).unwrap();
    let sys = root.join("sys");
    let dev = root.join("dev");
    fs::create_dir_all(dev.join("tape/by-id")).unwrap();
    let devices = [
        Dev {
            fixture: "disk",
            addr: "2:0:0:0",
            sg: 0,
            tape: None,
            changer: None,
        },
        Dev {
            fixture: "lto9_drive",
            addr: "2:0:1:0",
            sg: 1,
            tape: Some(0),
            changer: None,
        },
        Dev {
            fixture: "library_changer",
            addr: "2:0:2:0",
            sg: 2,
            tape: None,
            changer: Some(0),
        },
        Dev {
            fixture: "hp_lto8_drive",
            addr: "3:0:0:0",
            sg: 3,
            tape: Some(1),
            changer: None,
        },
        // A tape drive whose st driver is not bound: only the sg node.
        Dev {
            fixture: "lto9_drive",
            addr: "4:0:0:0",
            sg: 4,
            tape: None,
            changer: None,
        },
    ];
    for d in &devices {
        let host = d.addr.split(':').next().unwrap();
        let target = d.addr.rsplit_once(':').unwrap().0;
        let dev_rel = format!(
            "devices/pci0000:00/0000:00:1f.2/host{host}/target{target}/{}",
            d.addr
        );
        let dev_dir = sys.join(&dev_rel);
        fs::create_dir_all(&dev_dir).unwrap();
        for entry in fs::read_dir(fixture_dir(d.fixture)).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), dev_dir.join(entry.file_name())).unwrap();
        }
        class_node(&sys, &dev_rel, "scsi_generic", &format!("sg{}", d.sg));
        fs::write(dev.join(format!("sg{}", d.sg)), b"").unwrap();
        if let Some(n) = d.tape {
            for node in [
                format!("st{n}"),
                format!("st{n}l"),
                format!("st{n}m"),
                format!("st{n}a"),
                format!("nst{n}"),
                format!("nst{n}l"),
                format!("nst{n}m"),
                format!("nst{n}a"),
            ] {
                class_node(&sys, &dev_rel, "scsi_tape", &node);
                fs::write(dev.join(&node), b"").unwrap();
            }
        }
        if let Some(n) = d.changer {
            class_node(&sys, &dev_rel, "scsi_changer", &format!("sch{n}"));
            fs::write(dev.join(format!("sch{n}")), b"").unwrap();
        }
    }
    let by_id = dev.join("tape/by-id");
    symlink("../../nst0", by_id.join("scsi-10WT012345-nst")).unwrap();
    symlink("../../st0", by_id.join("scsi-10WT012345")).unwrap();
    symlink("../../sg1", by_id.join("scsi-10WT012345-sg")).unwrap();
    symlink("../../sg2", by_id.join("scsi-00X4U78L1234_LL0-sg")).unwrap();
    symlink("../../nst9", by_id.join("scsi-dangling-nst")).unwrap();
    FakeSystem {
        _dir: dir,
        sys,
        dev,
    }
}

#[test]
fn sg_path_used_as_is() {
    let f = build();
    let p = f.dev.join("sg3");
    assert_eq!(resolve_sg_path(&p, &f.sys).unwrap(), p);
}

#[test]
fn tape_nodes_resolve_to_their_sg_node() {
    let f = build();
    for (node, sg) in [
        ("nst0", "sg1"),
        ("st0", "sg1"),
        ("nst0a", "sg1"),
        ("st0l", "sg1"),
        ("nst1", "sg3"),
        ("st1m", "sg3"),
    ] {
        assert_eq!(
            resolve_sg_path(&f.dev.join(node), &f.sys).unwrap(),
            f.dev.join(sg),
            "{node}"
        );
    }
}

#[test]
fn changer_node_resolves() {
    let f = build();
    assert_eq!(
        resolve_sg_path(&f.dev.join("sch0"), &f.sys).unwrap(),
        f.dev.join("sg2")
    );
}

#[test]
fn by_id_links_are_followed() {
    let f = build();
    let link = f.dev.join("tape/by-id/scsi-10WT012345-nst");
    assert_eq!(resolve_sg_path(&link, &f.sys).unwrap(), f.dev.join("sg1"));
    let link = f.dev.join("tape/by-id/scsi-00X4U78L1234_LL0-sg");
    assert_eq!(resolve_sg_path(&link, &f.sys).unwrap(), f.dev.join("sg2"));
}

#[test]
fn missing_devices_are_not_found() {
    let f = build();
    let err = resolve_sg_path(&f.dev.join("nst5"), &f.sys).unwrap_err();
    assert!(matches!(err, DeviceError::NotFound { ref path } if path.ends_with("/nst5")));
    let err = resolve_sg_path(&f.dev.join("tape/by-id/scsi-dangling-nst"), &f.sys).unwrap_err();
    assert!(matches!(err, DeviceError::NotFound { .. }), "{err:?}");
    let err = resolve_sg_path(&f.dev.join("sdb"), &f.sys).unwrap_err();
    assert!(matches!(err, DeviceError::Invalid { .. }), "{err:?}");
}

#[test]
fn discovers_tape_drives() {
    let f = build();
    let drives = scan(&f.sys, &f.dev, DeviceKind::Tape);
    assert_eq!(drives.len(), 3, "{drives:#?}");
    let d = &drives[0];
    assert_eq!(d.kind, DeviceKind::Tape);
    assert_eq!(d.sg_path, f.dev.join("sg1").display().to_string());
    assert_eq!(
        d.device_path.as_deref(),
        Some(f.dev.join("nst0").display().to_string().as_str())
    );
    assert_eq!(d.scsi_address, "2:0:1:0");
    assert_eq!(d.vendor, "IBM");
    assert_eq!(d.model, "ULT3580-TD9");
    assert_eq!(d.revision, "Q3F2");
    assert_eq!(d.serial.as_deref(), Some("10WT012345"));
    assert_eq!(
        d.by_id.as_deref(),
        Some(
            f.dev
                .join("tape/by-id/scsi-10WT012345-nst")
                .display()
                .to_string()
                .as_str()
        )
    );
    let hp = &drives[1];
    assert_eq!(hp.scsi_address, "3:0:0:0");
    assert_eq!(hp.vendor, "HP");
    assert_eq!(hp.model, "Ultrium 8-SCSI");
    assert_eq!(hp.serial.as_deref(), Some("HUJ9999ABC"));
    assert_eq!(hp.by_id, None);
    let unbound = &drives[2];
    assert_eq!(unbound.scsi_address, "4:0:0:0");
    assert_eq!(unbound.sg_path, f.dev.join("sg4").display().to_string());
    assert_eq!(unbound.device_path, None);
}

#[test]
fn discovers_changers() {
    let f = build();
    let changers = scan(&f.sys, &f.dev, DeviceKind::Changer);
    assert_eq!(changers.len(), 1);
    let c = &changers[0];
    assert_eq!(c.kind, DeviceKind::Changer);
    assert_eq!(c.sg_path, f.dev.join("sg2").display().to_string());
    assert_eq!(
        c.device_path.as_deref(),
        Some(f.dev.join("sch0").display().to_string().as_str())
    );
    assert_eq!(c.model, "3573-TL");
    assert_eq!(c.serial.as_deref(), Some("00X4U78L1234_LL0"));
    assert!(c
        .by_id
        .as_deref()
        .is_some_and(|p| p.ends_with("scsi-00X4U78L1234_LL0-sg")));
}

#[test]
fn discovered_device_json_field_names() {
    let f = build();
    let drives = scan(&f.sys, &f.dev, DeviceKind::Tape);
    let v = serde_json::to_value(&drives[0]).unwrap();
    let obj = v.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "by_id",
            "device_path",
            "kind",
            "model",
            "revision",
            "scsi_address",
            "serial",
            "sg_path",
            "vendor"
        ]
    );
    assert_eq!(obj["kind"], "tape");
    assert_eq!(obj["scsi_address"], "2:0:1:0");
}

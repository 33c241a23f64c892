//! Files that vanish or change while a backup reads them are warnings:
//! the job finishes, counts them, and the rest of the tree is restorable.

mod restore_util;

use std::path::Path;

use ptape::backup::run_backup;
use ptape::catalog::Catalog;
use ptape::restore::{run_restore, RestoreOptions};
use ptape::writer::{NoEvents, WriterEvents};
use restore_util::{backup_options, library_devices, make_library, MIB};

/// Between the walk's `lstat` and the read: `vanishes` is removed,
/// `grows` gets longer.
fn meddle(path: &Path) {
    match path.file_name().and_then(|n| n.to_str()) {
        Some("vanishes") => std::fs::remove_file(path).unwrap(),
        Some("grows") => {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            f.write_all(b" and more").unwrap();
        }
        _ => {}
    }
}

#[derive(Default)]
struct Warnings(Vec<String>);

impl WriterEvents for Warnings {
    fn warning(&mut self, message: &str) {
        self.0.push(message.to_string());
    }
}

#[test]
fn vanished_and_changed_files_are_warnings_and_the_rest_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = make_library(&tmp.path().join("lib"), 1, 256 * MIB);
    let src = tmp.path().join("src/data");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a-stays"), b"kept").unwrap();
    std::fs::write(src.join("grows"), b"short").unwrap();
    std::fs::write(src.join("vanishes"), b"gone soon").unwrap();
    std::fs::write(src.join("z-stays"), b"kept too").unwrap();
    let mut catalog = Catalog::open(&tmp.path().join("catalog.db")).unwrap();
    let mut options = backup_options(&src, "w");
    options.before_read = Some(meddle);
    let mut events = Warnings::default();
    let result = run_backup(library_devices(&lib), &mut catalog, &options, &mut events).unwrap();
    assert_eq!(result.warnings, 2, "{:?}", events.0);
    assert!(
        events.0[0].starts_with("data/grows: changed while it was read"),
        "{:?}",
        events.0
    );
    assert!(
        events.0[1].starts_with("data/vanishes: vanished"),
        "{:?}",
        events.0
    );

    // The snapshot marks the changed file incomplete (and lacks the other).
    let listed = ptape::catalog::browse::list(&catalog, &result.snapshot, "data").unwrap();
    let flags: Vec<(&str, bool)> = listed
        .iter()
        .map(|l| (l.name.as_str(), l.incomplete))
        .collect();
    assert_eq!(
        flags,
        [("a-stays", false), ("grows", true), ("z-stays", false)]
    );

    let out = tmp.path().join("out");
    run_restore(
        library_devices(&lib),
        &catalog,
        &RestoreOptions::new(&result.snapshot, &out),
        &mut NoEvents,
    )
    .unwrap();
    assert_eq!(std::fs::read(out.join("data/a-stays")).unwrap(), b"kept");
    assert_eq!(
        std::fs::read(out.join("data/z-stays")).unwrap(),
        b"kept too"
    );
    assert_eq!(
        std::fs::read(out.join("data/grows")).unwrap(),
        b"short and more"
    );
    assert!(!out.join("data/vanishes").exists());

    // With --fail-on-warning the first one fails the job: no snapshot.
    std::fs::write(src.join("vanishes"), b"back again").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    options.fail_on_warning = true;
    options.id = Some("strict".into());
    let err = run_backup(library_devices(&lib), &mut catalog, &options, &mut NoEvents)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("data/grows: changed while it was read"),
        "{err}"
    );
    assert!(err.contains("--fail-on-warning"), "{err}");
    assert_eq!(catalog.snapshots(None).unwrap().len(), 1);
}

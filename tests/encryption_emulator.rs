//! Encrypted pools on the emulated library (its AES-256-GCM, real SECURITY
//! PROTOCOL IN/OUT CDBs): the writer loads a per-media-set key after the
//! unencrypted labels and before the first data block, records the key in
//! the media set label, and clears it on every exit; restore, verify and
//! catalog scan load the key of the set they read; a missing key fails
//! before any data is read; keys come back from the tape or a paper key.

mod restore_util;

use std::path::{Path, PathBuf};

use pbs_tape::emulator::crypto::key_fingerprint;
use pbs_tape::emulator::image::{Record, TapeImage};
use pbs_tape::emulator::library::Library;
use ptape::backup::{run_backup, BackupError, BackupResult};
use ptape::catalog::Catalog;
use ptape::devices::TapeDevices;
use ptape::keys::{
    paperkey, Fingerprint, Kdf, KeyAccess, KeyError, KeyStore, Passphrase, PassphraseOrigin,
};
use ptape::pool::{create_pool, PoolSettings};
use ptape::reading::TapeAccessError;
use ptape::restore::{run_restore, RestoreError, RestoreOptions};
use ptape::verify::{verify_with_keys, VerifyError, VerifySelection};
use ptape::writer::{NoEvents, WriterError};
use restore_util::{assert_same_tree, backup_options, library_devices, make_library, MIB};
use zeroize::Zeroizing;

/// A marker no chunk boundary splits in every copy: the plaintext the
/// tape image must not contain.
const MARKER: &[u8] = b"PTAPE-PLAINTEXT-MARKER-3c9e1f7a";
const HINT: &str = "the blue notebook";
const POOL: &str = "secure";

fn passphrase(text: &str) -> Passphrase {
    Passphrase::new(Zeroizing::new(text.to_string())).unwrap()
}

struct Lab {
    tmp: tempfile::TempDir,
    lib: Library,
    src: PathBuf,
    catalog: Catalog,
    store: KeyStore,
    fp: Fingerprint,
}

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let lib = make_library(&tmp.path().join("lib"), 4, 64 * MIB);
        let src = tmp.path().join("src");
        std::fs::create_dir_all(src.join("docs")).unwrap();
        let mut marker = Vec::new();
        for i in 0..4096u32 {
            marker.extend_from_slice(MARKER);
            marker.extend_from_slice(format!(" line {i}\n").as_bytes());
        }
        std::fs::write(src.join("docs/marker.txt"), &marker).unwrap();
        std::fs::write(
            src.join("random.bin"),
            restore_util::random_bytes((3 * MIB) as usize, 7),
        )
        .unwrap();
        let catalog = Catalog::open(&tmp.path().join("catalog.db")).unwrap();
        let store = KeyStore::at(&tmp.path().join("keys"));
        let fp = store
            .create(HINT, Kdf::Pbkdf2, Some(&passphrase("correct horse")))
            .unwrap()
            .fingerprint;
        create_pool(
            &catalog,
            POOL,
            PoolSettings {
                encrypt: Some(fp.to_string()),
                ..PoolSettings::default()
            },
            0,
        )
        .unwrap();
        Lab {
            tmp,
            lib,
            src,
            catalog,
            store,
            fp,
        }
    }

    fn keys(&self) -> KeyAccess {
        self.keys_in(&self.tmp.path().join("keys"), "correct horse")
    }

    fn keys_in(&self, dir: &Path, pass: &str) -> KeyAccess {
        KeyAccess::new(Some(dir), PassphraseOrigin::Given(passphrase(pass)))
    }

    fn backup_to(&mut self, pool: &str, new_set: bool) -> Result<BackupResult, BackupError> {
        let mut o = backup_options(&self.src, "host");
        o.pool = pool.into();
        o.new_media_set = new_set;
        o.keys = self.keys();
        // Distinct snapshot times for repeated backups.
        o.clock = ptape::schedule::Clock::Fixed(
            jiff::Timestamp::from_second(1_800_000_000 + self.catalog_snapshots() as i64).unwrap(),
        );
        run_backup(
            library_devices(&self.lib),
            &mut self.catalog,
            &o,
            &mut NoEvents,
        )
    }

    fn backup(&mut self) -> BackupResult {
        self.backup_to(POOL, false).unwrap()
    }

    fn catalog_snapshots(&self) -> usize {
        self.catalog.snapshots(None).unwrap().len()
    }

    fn restore_with(
        &self,
        snapshot: &str,
        out: &str,
        keys: KeyAccess,
    ) -> Result<PathBuf, RestoreError> {
        let target = self.tmp.path().join(out);
        let mut o = RestoreOptions::new(snapshot, &target);
        o.keys = keys;
        run_restore(library_devices(&self.lib), &self.catalog, &o, &mut NoEvents)?;
        Ok(target)
    }

    fn image(&self, barcode: &str) -> Vec<u8> {
        std::fs::read(self.lib.tape_image_path(barcode)).unwrap()
    }

    /// The key (hex) the emulated drive holds, from its state file.
    fn key_in_drive(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.lib.drive_state_path(0)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["settings"]["encryption"]["key_hex"]
            .as_str()
            .map(str::to_string)
    }

    /// Per tape file of `barcode`: the set of key fingerprints of its
    /// blocks (`None`: unencrypted block).
    fn block_keys(&self, barcode: &str) -> Vec<(u64, Option<[u8; 8]>)> {
        let image = TapeImage::open(&self.lib.tape_image_path(barcode)).unwrap();
        let mut out = Vec::new();
        for i in 0..image.len() {
            if let Some(Record::Block(b)) = image.record(i) {
                let file = image.filemarks_before(i);
                out.push((file, b.encrypted.then_some(b.key_fingerprint)));
            }
        }
        out
    }

    /// The fingerprint the emulator stores for the drive key of `set`.
    fn drive_key_fp(&self, set: uuid::Uuid) -> [u8; 8] {
        let key = self
            .store
            .unlock(&self.fp, Some(&passphrase("correct horse")))
            .unwrap();
        key_fingerprint(key.drive_key(&set).unwrap().as_bytes())
    }

    /// `pmt encryption set`: a raw key loaded straight into the drive.
    fn foreign_key(&self) {
        let mut devices = library_devices(&self.lib);
        let mut tape = devices.load("BK0004L9").unwrap();
        let (t, path) = tape.transport_and_path();
        let path = path.to_string();
        pbs_tape::drive::encryption::set_encryption_key(t, &path, &[0x5a; 32]).unwrap();
        devices.unload(tape).unwrap();
    }
}

/// Key fingerprints of the data blocks (files 2 and on) of `tape`.
fn keys_of(lab: &Lab, tape: &str) -> std::collections::HashSet<Option<[u8; 8]>> {
    lab.block_keys(tape)
        .into_iter()
        .filter(|(f, _)| *f >= 2)
        .map(|(_, k)| k)
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn encrypted_backup_restores_byte_identical_and_the_image_holds_no_plaintext() {
    let mut lab = Lab::new();
    let backup = lab.backup();
    let tape = &backup.tapes[0];
    // Labels unencrypted; every data block sealed with the set's drive key.
    let expected = lab.drive_key_fp(backup.media_set);
    let blocks = lab.block_keys(tape);
    assert!(blocks.iter().any(|(f, _)| *f >= 2));
    for (file, key) in &blocks {
        match file {
            0 | 1 => assert_eq!(*key, None, "label file {file} is encrypted"),
            _ => assert_eq!(*key, Some(expected), "file {file}"),
        }
    }
    assert!(!contains(&lab.image(tape), MARKER), "plaintext on tape");
    // The job left no key in the drive.
    assert_eq!(lab.key_in_drive(), None);
    // The media set label names the key and carries its wrapped copy.
    let mut devices = library_devices(&lab.lib);
    let mut t = devices.load(tape).unwrap();
    let on_tape = ptape::keys::read_tape_key(&mut t).unwrap();
    devices.unload(t).unwrap();
    // One handle on the drive per process: the next job locks it again.
    drop(devices);
    assert_eq!(on_tape.fingerprint, Some(lab.fp.to_string()));
    assert_eq!(on_tape.hint(), Some(HINT));
    assert_eq!(
        on_tape.key_config.unwrap(),
        lab.store.key_config(&lab.fp).unwrap()
    );

    let out = lab
        .restore_with(&backup.snapshot, "out", lab.keys())
        .unwrap();
    assert_same_tree(&lab.src, &out.join("src"));
    assert_eq!(lab.key_in_drive(), None);

    // Verify and catalog scan read the encrypted set with its key.
    let report = verify_with_keys(
        library_devices(&lab.lib),
        &lab.catalog,
        &VerifySelection::MediaSet(backup.media_set),
        &lab.keys(),
        &mut NoEvents,
    )
    .unwrap();
    assert!(report.ok, "{report:?}");
    assert!(report.tapes[0].chunks > 0);
    let mut fresh = Catalog::open(&lab.tmp.path().join("scanned.db")).unwrap();
    let scan = ptape::scan::scan_tapes_with_keys(
        library_devices(&lab.lib),
        &mut fresh,
        None,
        true,
        &lab.keys(),
        &mut NoEvents,
    )
    .unwrap();
    assert!(scan.snapshots >= 1, "{scan:?}");
    assert!(fresh.snapshot(&backup.snapshot).unwrap().is_some());
    assert_eq!(lab.key_in_drive(), None);
}

#[test]
fn the_same_data_unencrypted_is_readable_in_the_image() {
    // The control for the plaintext check: without encryption the marker
    // is found, so the check above can fail.
    let mut lab = Lab::new();
    create_pool(&lab.catalog, "plain", PoolSettings::default(), 0).unwrap();
    let backup = lab.backup_to("plain", false).unwrap();
    assert!(contains(&lab.image(&backup.tapes[0]), MARKER));
    assert!(lab
        .block_keys(&backup.tapes[0])
        .iter()
        .all(|(_, k)| k.is_none()));
}

#[test]
fn two_media_sets_of_a_pool_use_different_drive_keys() {
    let mut lab = Lab::new();
    let first = lab.backup();
    let second = lab.backup_to(POOL, true).unwrap();
    assert_ne!(first.media_set, second.media_set);
    assert_ne!(first.tapes, second.tapes);
    let (k1, k2) = (
        lab.drive_key_fp(first.media_set),
        lab.drive_key_fp(second.media_set),
    );
    assert_ne!(k1, k2);
    assert_eq!(keys_of(&lab, &first.tapes[0]), [Some(k1)].into());
    assert_eq!(keys_of(&lab, &second.tapes[0]), [Some(k2)].into());
    // Appending to the first set (no --new-media-set would pick the
    // newest set: append to it and check its key is the same as before).
    let third = lab.backup();
    assert_eq!(third.media_set, second.media_set);
    assert_eq!(keys_of(&lab, &second.tapes[0]), [Some(k2)].into());
    for (i, b) in [&first, &second, &third].into_iter().enumerate() {
        let out = lab
            .restore_with(&b.snapshot, &format!("out-{i}"), lab.keys())
            .unwrap();
        assert_same_tree(&lab.src, &out.join("src"));
    }
}

#[test]
fn a_pool_key_change_starts_a_new_media_set() {
    let mut lab = Lab::new();
    let first = lab.backup();
    let other = lab
        .store
        .create(
            "second key",
            Kdf::Pbkdf2,
            Some(&passphrase("correct horse")),
        )
        .unwrap()
        .fingerprint;
    ptape::pool::update_pool(
        &lab.catalog,
        POOL,
        ptape::pool::PoolUpdate {
            encrypt: Some(Some(other.to_string())),
            ..Default::default()
        },
    )
    .unwrap();
    let second = lab.backup();
    assert_ne!(first.media_set, second.media_set);
    let set = lab.catalog.media_set(second.media_set).unwrap().unwrap();
    assert_eq!(set.encrypt, Some(other.to_string()));
    let out = lab
        .restore_with(&first.snapshot, "out1", lab.keys())
        .unwrap();
    assert_same_tree(&lab.src, &out.join("src"));
    let out = lab
        .restore_with(&second.snapshot, "out2", lab.keys())
        .unwrap();
    assert_same_tree(&lab.src, &out.join("src"));
}

fn missing_key_message(lab: &Lab, tape: &str, set: uuid::Uuid) -> String {
    format!(
        "tape {tape} of media set {set} is encrypted with key {} (hint: {HINT}); import it with ptape key import or recover it with ptape key restore",
        lab.fp
    )
}

#[test]
fn without_the_key_reading_fails_before_any_data_then_the_key_comes_back_from_tape() {
    let mut lab = Lab::new();
    let backup = lab.backup();
    let tape = backup.tapes[0].clone();
    lab.store.remove(&lab.fp).unwrap();
    let expected = missing_key_message(&lab, &tape, backup.media_set);

    let err = lab
        .restore_with(&backup.snapshot, "out", lab.keys())
        .unwrap_err();
    match &err {
        RestoreError::Tape(TapeAccessError::Key(k)) => {
            assert!(matches!(**k, KeyError::MissingTapeKey { .. }), "{k}")
        }
        other => panic!("unexpected error: {other}"),
    }
    assert_eq!(err.to_string(), expected);
    // Nothing restored, no key left in the drive.
    assert!(!lab.tmp.path().join("out").join("src").exists());
    assert_eq!(lab.key_in_drive(), None);

    let err = verify_with_keys(
        library_devices(&lab.lib),
        &lab.catalog,
        &VerifySelection::All,
        &lab.keys(),
        &mut NoEvents,
    )
    .unwrap_err();
    assert!(matches!(err, VerifyError::Key(_)), "{err}");
    assert_eq!(err.to_string(), expected);
    // A catalog scan records the tape and its set (with the key's
    // fingerprint) from the labels, says which key to bring back, reads
    // none of its data and goes on with the other cartridges.
    let mut fresh = Catalog::open(&lab.tmp.path().join("scan.db")).unwrap();
    let scan = ptape::scan::scan_tapes_with_keys(
        library_devices(&lab.lib),
        &mut fresh,
        None,
        false,
        &lab.keys(),
        &mut NoEvents,
    )
    .unwrap();
    let report = scan.tapes.iter().find(|t| t.label == tape).unwrap();
    assert_eq!(report.state, ptape::scan::TapeScanState::KeyMissing);
    assert_eq!(report.media_set, Some(backup.media_set));
    assert!(
        report.notes.iter().any(|n| n.starts_with(&expected)),
        "{:?}",
        report.notes
    );
    assert_eq!(report.full_reads + report.catalog_archives, 0);
    assert!(scan.tapes.len() > 1, "the scan stopped at {tape}");
    assert!(scan
        .tapes
        .iter()
        .filter(|t| t.label != tape)
        .all(|t| t.state == ptape::scan::TapeScanState::Blank));
    let recorded = fresh.media_by_label(&tape).unwrap().unwrap();
    assert_eq!(recorded.media_set, Some(backup.media_set));
    let set = fresh.media_set(backup.media_set).unwrap().unwrap();
    assert_eq!(set.encrypt, Some(lab.fp.to_string()));
    assert_eq!(scan.snapshots, 0);
    assert_eq!(lab.key_in_drive(), None);

    // ptape key restore: the wrapped key from the media set label.
    let mut devices = library_devices(&lab.lib);
    let mut t = devices.load(&tape).unwrap();
    let (_, info, _) = ptape::keys::restore_key_from_tape(&lab.store, &mut t, |fp, hint| {
        assert_eq!(*fp, lab.fp);
        assert_eq!(hint, Some(HINT));
        Ok(passphrase("correct horse"))
    })
    .unwrap();
    devices.unload(t).unwrap();
    drop(devices);
    assert_eq!(info.fingerprint, lab.fp);
    let out = lab
        .restore_with(&backup.snapshot, "out", lab.keys())
        .unwrap();
    assert_same_tree(&lab.src, &out.join("src"));
    // With the key back, scanning again brings the tape's archives.
    let scan = ptape::scan::scan_tapes_with_keys(
        library_devices(&lab.lib),
        &mut fresh,
        Some(vec![tape.clone()]),
        false,
        &lab.keys(),
        &mut NoEvents,
    )
    .unwrap();
    assert_eq!(scan.tapes[0].state, ptape::scan::TapeScanState::Scanned);
    assert!(fresh.snapshot(&backup.snapshot).unwrap().is_some());
}

#[test]
fn a_paper_key_imported_into_a_fresh_key_store_restores() {
    let mut lab = Lab::new();
    let backup = lab.backup();
    let paper = paperkey::render(
        &lab.store.key_config(&lab.fp).unwrap(),
        paperkey::PaperFormat::Text,
    )
    .unwrap();
    let fresh_dir = lab.tmp.path().join("fresh-keys");
    let fresh = KeyStore::at(&fresh_dir);
    let config = paperkey::parse_key_text(&paper).unwrap();
    fresh.import(&config, &passphrase("correct horse")).unwrap();
    let keys = lab.keys_in(&fresh_dir, "correct horse");
    let out = lab.restore_with(&backup.snapshot, "out", keys).unwrap();
    assert_same_tree(&lab.src, &out.join("src"));
    // A wrong passphrase names the hint.
    let keys = lab.keys_in(&fresh_dir, "wrong horse");
    let err = lab
        .restore_with(&backup.snapshot, "out2", keys)
        .unwrap_err();
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
    assert!(err.to_string().contains(HINT), "{err}");
}

#[test]
fn a_key_left_active_makes_an_unencrypted_pool_refuse_and_an_encrypting_pool_replace_it() {
    let mut lab = Lab::new();
    create_pool(&lab.catalog, "plain", PoolSettings::default(), 0).unwrap();
    lab.foreign_key();
    assert!(lab.key_in_drive().is_some());
    let err = lab.backup_to("plain", false).unwrap_err();
    match &err {
        BackupError::Writer(WriterError::DriveKey(e)) => assert!(
            matches!(**e, ptape::keys::DriveKeyError::ForeignKey { .. }),
            "{e}"
        ),
        other => panic!("unexpected error: {other}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("left active by another program"),
        "{message}"
    );
    assert!(message.contains("encryption clear"), "{message}");
    // Nothing was written: no snapshot, no tape joined a set.
    assert_eq!(lab.catalog_snapshots(), 0);
    assert!(lab.catalog.media_sets(Some("plain")).unwrap().is_empty());
    // The foreign key is still there (not ours to clear)...
    assert!(lab.key_in_drive().is_some());
    // ...but an encrypting pool sets its own key (labels unencrypted).
    let backup = lab.backup();
    let blocks = lab.block_keys(&backup.tapes[0]);
    assert!(blocks
        .iter()
        .filter(|(f, _)| *f < 2)
        .all(|(_, k)| k.is_none()));
    assert_eq!(lab.key_in_drive(), None);
    let out = lab
        .restore_with(&backup.snapshot, "out", lab.keys())
        .unwrap();
    assert_same_tree(&lab.src, &out.join("src"));
}

#[test]
fn a_wrong_passphrase_fails_the_backup_before_any_tape_is_touched() {
    let mut lab = Lab::new();
    let mut o = backup_options(&lab.src, "host");
    o.pool = POOL.into();
    o.keys = lab.keys_in(&lab.tmp.path().join("keys"), "wrong horse");
    let err = run_backup(
        library_devices(&lab.lib),
        &mut lab.catalog,
        &o,
        &mut NoEvents,
    )
    .unwrap_err();
    assert!(err.to_string().contains(HINT), "{err}");
    assert!(lab.catalog.media_list().unwrap().is_empty());
    for i in 1..=4 {
        assert!(lab.block_keys(&format!("BK{i:04}L9")).is_empty());
    }
}

#[test]
fn a_failed_encrypted_job_leaves_no_key_in_the_drive() {
    use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};
    for (kind, after) in [
        (FaultKind::WriteError, 4),
        (FaultKind::WriteError, 30),
        (FaultKind::DeferredWriteError, 12),
    ] {
        let mut lab = Lab::new();
        lab.lib
            .arm_fault(FaultSpec {
                device: DeviceId::Drive(0),
                kind,
                after,
            })
            .unwrap();
        let err = lab.backup_to(POOL, false).unwrap_err();
        assert_eq!(lab.catalog_snapshots(), 0, "{kind:?} after {after}: {err}");
        assert_eq!(
            lab.key_in_drive(),
            None,
            "{kind:?} after {after}: key left in the drive ({err})"
        );
    }
}

fn set_personality(lab: &Lab, f: impl FnOnce(&mut pbs_tape::emulator::state::DrivePersonality)) {
    lab.lib
        .update(|state| {
            f(&mut state.config.drive_personality);
            Ok(())
        })
        .unwrap();
}

#[test]
fn drives_that_cannot_take_the_key_are_named_before_anything_is_written() {
    use pbs_tape::emulator::state::EncryptionControl;
    use ptape::keys::DriveKeyError;
    let mut lab = Lab::new();
    set_personality(&lab, |p| p.encryption_control = EncryptionControl::Library);
    let err = lab.backup_to(POOL, false).unwrap_err();
    match &err {
        BackupError::Writer(WriterError::DriveKey(e)) => {
            assert!(matches!(**e, DriveKeyError::ManagedElsewhere { .. }), "{e}")
        }
        other => panic!("unexpected error: {other}"),
    }
    assert!(
        err.to_string().contains("library- or system-managed"),
        "{err}"
    );
    set_personality(&lab, |p| {
        p.encryption_control = EncryptionControl::Application;
        p.encryption = false;
    });
    let err = lab.backup_to(POOL, false).unwrap_err();
    assert!(err.to_string().contains("no hardware encryption"), "{err}");
    // Nothing was written on any tape, nothing recorded.
    assert_eq!(lab.catalog_snapshots(), 0);
    for i in 1..=4 {
        assert!(lab.block_keys(&format!("BK{i:04}L9")).is_empty());
    }
}

#[test]
fn a_drive_that_refuses_mixed_mode_still_round_trips_and_appends() {
    let mut lab = Lab::new();
    set_personality(&lab, |p| p.encryption_mixed = false);
    let first = lab.backup();
    // A second job appends to the set (labels read back before the key).
    let second = lab.backup();
    assert_eq!(first.media_set, second.media_set);
    let key = lab.drive_key_fp(first.media_set);
    assert_eq!(keys_of(&lab, &first.tapes[0]), [Some(key)].into());
    for (i, b) in [&first, &second].into_iter().enumerate() {
        let out = lab
            .restore_with(&b.snapshot, &format!("out-{i}"), lab.keys())
            .unwrap();
        assert_same_tree(&lab.src, &out.join("src"));
    }
    let report = verify_with_keys(
        library_devices(&lab.lib),
        &lab.catalog,
        &VerifySelection::All,
        &lab.keys(),
        &mut NoEvents,
    )
    .unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(lab.key_in_drive(), None);
}

#[test]
fn the_passphrase_comes_from_a_file_as_the_scheduler_gives_it() {
    let mut lab = Lab::new();
    let file = lab.tmp.path().join("pass");
    std::fs::write(&file, "correct horse\n").unwrap();
    let access = KeyAccess::new(
        Some(&lab.tmp.path().join("keys")),
        PassphraseOrigin::File(file),
    );
    let mut o = backup_options(&lab.src, "host");
    o.pool = POOL.into();
    o.keys = access.clone();
    let backup = run_backup(
        library_devices(&lab.lib),
        &mut lab.catalog,
        &o,
        &mut NoEvents,
    )
    .unwrap();
    let out = lab.restore_with(&backup.snapshot, "out", access).unwrap();
    assert_same_tree(&lab.src, &out.join("src"));
}

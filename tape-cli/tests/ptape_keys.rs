//! `ptape key ...` driven as a process: the key store, passphrases from
//! files and the environment, paper keys, import, removal rules, and
//! recovering a key from a tape's media set label.

mod cli_util;
#[path = "../../tests/restore_util/mod.rs"]
mod restore_util;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use cli_util::Ptape;
use pbs_tape::format::{MediaLabel, MediaSetLabel, MediaWriter, WriterConfig};
use ptape::devices::TapeDevices;
use ptape::keys::{Fingerprint, KeyStore};
use restore_util::{library_devices, make_named_library, MIB};

struct Env {
    tmp: tempfile::TempDir,
    cli: Ptape,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let cli = Ptape::new(tmp.path());
        Env { tmp, cli }
    }

    fn config_dir(&self) -> PathBuf {
        self.tmp.path().join("config")
    }

    /// A file holding `text` (a passphrase file).
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `ptape key create` with a passphrase file; returns the fingerprint.
    fn create(&self, hint: &str, kdf: &str, pass: &Path) -> String {
        let out = self.cli.ok(&[
            "key",
            "create",
            "--hint",
            hint,
            "--kdf",
            kdf,
            "--passphrase-file",
            pass.to_str().unwrap(),
        ]);
        out.trim().to_string()
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn create_list_show_with_passphrase_file_and_environment() {
    let env = Env::new();
    let pass = env.file("pass", "correct horse\n");
    let fp = env.create("office safe", "scrypt", &pass);
    assert_eq!(fp.len(), 95, "{fp}");
    assert!(fp.parse::<Fingerprint>().is_ok());
    let store = env.config_dir().join("tape-keys.json");
    assert_eq!(
        std::fs::metadata(&store).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // From the environment.
    let out = env
        .cli
        .ptape()
        .args(["key", "create", "--hint", "env key", "--kdf", "pbkdf2"])
        .env("PTAPE_PASSPHRASE", "from the env")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fp2 = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let list = env.cli.json(&["key", "list"]);
    let keys = list.as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for k in keys {
        let mut fields: Vec<_> = k.as_object().unwrap().keys().cloned().collect();
        fields.sort();
        assert_eq!(
            fields,
            ["created", "fingerprint", "hint", "kdf", "modified"]
        );
    }
    assert_eq!(keys[0]["fingerprint"], fp.as_str());
    assert_eq!(keys[0]["kdf"], "scrypt");
    assert_eq!(keys[1]["fingerprint"], fp2.as_str());
    assert_eq!(keys[1]["kdf"], "pbkdf2");
    assert_eq!(keys[1]["hint"], "env key");

    // show takes the short form (first 8 bytes).
    let short = &fp[..23];
    let shown = env.cli.json(&["key", "show", short]);
    assert_eq!(shown["fingerprint"], fp.as_str());
    assert_eq!(shown["hint"], "office safe");
    let text = env.cli.ok(&["key", "show", &fp]);
    assert!(
        text.contains("office safe") && text.contains("scrypt"),
        "{text}"
    );

    // Bad input.
    let err = env.cli.fails(&["key", "show", "00:11:22:33:44:55:66:77"]);
    assert!(err.contains("no tape encryption key"), "{err}");
    let short_pass = env.file("short", "1234\n");
    let err = env.cli.fails(&[
        "key",
        "create",
        "--hint",
        "x",
        "--passphrase-file",
        s(&short_pass),
    ]);
    assert!(err.contains("at least 5 characters"), "{err}");
    // No passphrase and no terminal to ask on.
    let err = env.cli.fails(&["key", "create", "--hint", "x"]);
    assert!(err.contains("--passphrase-file"), "{err}");
    assert!(err.contains("PTAPE_PASSPHRASE"), "{err}");
    // html is for paperkey only.
    let out = env
        .cli
        .ptape()
        .args(["key", "list", "--output-format", "html"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only for ptape key paperkey"));
    assert_eq!(env.cli.json(&["key", "list"]).as_array().unwrap().len(), 2);
}

#[test]
fn change_passphrase_wrong_one_shows_the_hint() {
    let env = Env::new();
    let pass = env.file("pass", "first passphrase\n");
    let fp = env.create("the blue notebook", "pbkdf2", &pass);
    let wrong = env.file("wrong", "not the passphrase\n");
    let new = env.file("new", "second passphrase\n");
    let err = env.cli.fails(&[
        "key",
        "change-passphrase",
        &fp,
        "--passphrase-file",
        s(&wrong),
        "--new-passphrase-file",
        s(&new),
    ]);
    assert!(err.contains("wrong passphrase"), "{err}");
    assert!(err.contains("hint: the blue notebook"), "{err}");
    env.cli.ok(&[
        "key",
        "change-passphrase",
        &fp,
        "--passphrase-file",
        s(&pass),
        "--new-passphrase-file",
        s(&new),
    ]);
    // The old one no longer opens it, the new one does.
    let store = KeyStore::at(&env.config_dir());
    let fp: Fingerprint = fp.parse().unwrap();
    let old = ptape::keys::Passphrase::from_file(&pass).unwrap();
    let newp = ptape::keys::Passphrase::from_file(&new).unwrap();
    assert!(store.unlock(&fp, Some(&old)).is_err());
    assert!(store.unlock(&fp, Some(&newp)).is_ok());
}

#[test]
fn unwrapped_key_then_force_reset() {
    let env = Env::new();
    let out = env
        .cli
        .ptape()
        .args(["key", "create", "--hint", "robot", "--kdf", "none"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(
        warning.contains("warning") && warning.contains("unwrapped"),
        "{warning}"
    );
    let fp = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let err = env.cli.fails(&["key", "paperkey", &fp]);
    assert!(err.contains("no passphrase-protected copy"), "{err}");
    // Give it a passphrase (no old one), then reset it with --force.
    let p1 = env.file("p1", "passphrase one\n");
    env.cli.ok(&[
        "key",
        "change-passphrase",
        &fp,
        "--kdf",
        "pbkdf2",
        "--new-passphrase-file",
        s(&p1),
    ]);
    let p2 = env.file("p2", "passphrase two\n");
    let err = env.cli.fails(&[
        "key",
        "change-passphrase",
        &fp,
        "--new-passphrase-file",
        s(&p2),
        "--passphrase-file",
        s(&p2),
    ]);
    assert!(err.contains("hint: robot"), "{err}");
    if nix::unistd::geteuid().is_root() {
        env.cli.ok(&[
            "key",
            "change-passphrase",
            &fp,
            "--force",
            "--kdf",
            "pbkdf2",
            "--new-passphrase-file",
            s(&p2),
        ]);
        let paper = env.cli.ok(&["key", "paperkey", &fp]);
        let config = ptape::keys::paperkey::parse_key_text(&paper).unwrap();
        let p2 = ptape::keys::Passphrase::from_file(&p2).unwrap();
        assert!(ptape::keys::unwrap_key_config(&config, &p2).is_ok());
    }
}

#[test]
fn paper_key_export_and_import_on_a_fresh_config() {
    let env = Env::new();
    let pass = env.file("pass", "paper passphrase\n");
    let fp = env.create("drawer 3", "pbkdf2", &pass);
    let text = env.cli.ok(&["key", "paperkey", &fp]);
    assert!(text.contains("-----BEGIN PTAPE TAPE KEY-----"), "{text}");
    assert!(text.contains("-----END PTAPE TAPE KEY-----"));
    assert!(text.contains(&fp));
    assert!(text.contains("####"), "no ASCII QR code");
    let html = env
        .cli
        .ok(&["key", "paperkey", &fp, "--output-format", "html"]);
    assert!(html.contains("<svg") && html.contains("BEGIN PTAPE TAPE KEY"));
    // The plain key is on neither.
    let key = KeyStore::at(&env.config_dir())
        .unlock(
            &fp.parse().unwrap(),
            Some(&ptape::keys::Passphrase::from_file(&pass).unwrap()),
        )
        .unwrap();
    let hex = pbs_tape::format::hex(key.as_bytes());
    assert!(!text.contains(&hex) && !html.contains(&hex));

    for (name, content) in [("paper.txt", &text), ("paper.html", &html)] {
        let fresh = Env::new();
        let file = fresh.file(name, content);
        let wrong = fresh.file("wrong", "some other words\n");
        let err = fresh.cli.fails(&[
            "key",
            "import",
            "--paper-key",
            s(&file),
            "--passphrase-file",
            s(&wrong),
        ]);
        assert!(err.contains("hint: drawer 3"), "{err}");
        let pass = fresh.file("pass", "paper passphrase\n");
        let out = fresh.cli.ok(&[
            "key",
            "import",
            "--paper-key",
            s(&file),
            "--passphrase-file",
            s(&pass),
        ]);
        assert!(out.contains("imported key"), "{out}");
        assert_eq!(fresh.cli.json(&["key", "show", &fp])["hint"], "drawer 3");
        let again = fresh.cli.ok(&[
            "key",
            "import",
            "--paper-key",
            s(&file),
            "--passphrase-file",
            s(&pass),
        ]);
        assert!(again.contains("already"), "{again}");
    }

    // --file: a bare JSON key config.
    let config = KeyStore::at(&env.config_dir())
        .key_config(&fp.parse().unwrap())
        .unwrap();
    let fresh = Env::new();
    let file = fresh.file("key.json", &serde_json::to_string(&config).unwrap());
    let out = fresh
        .cli
        .ptape()
        .args(["key", "import", "--file", s(&file)])
        .env("PTAPE_PASSPHRASE", "paper passphrase")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fresh.cli.json(&["key", "list"]).as_array().unwrap().len(),
        1
    );
    let junk = fresh.file("junk", "hello\n");
    let err = fresh.cli.fails(&["key", "import", "--file", s(&junk)]);
    assert!(err.contains("no key found"), "{err}");
}

#[test]
fn remove_refuses_while_a_pool_uses_the_key() {
    let env = Env::new();
    let pass = env.file("pass", "remove me please\n");
    let fp = env.create("r", "pbkdf2", &pass);
    env.cli.ok(&["pool", "create", "offsite"]);
    let catalog = ptape::catalog::Catalog::open(&env.cli.data_dir().join("catalog.db")).unwrap();
    catalog.set_pool_encrypt("offsite", Some(&fp)).unwrap();
    drop(catalog);
    let err = env.cli.fails(&["key", "remove", &fp]);
    assert!(err.contains("offsite") && err.contains("--force"), "{err}");
    assert_eq!(env.cli.json(&["key", "list"]).as_array().unwrap().len(), 1);
    env.cli.ok(&["key", "remove", &fp, "--force"]);
    assert!(env
        .cli
        .json(&["key", "list"])
        .as_array()
        .unwrap()
        .is_empty());
    let err = env.cli.fails(&["key", "remove", &fp]);
    assert!(err.contains("no tape encryption key"), "{err}");
}

/// Writes the media label and a media set label that carries `key` into
/// cartridge `barcode` of the library (as an encrypting backup does).
fn write_labels(
    lib: &pbs_tape::emulator::library::Library,
    barcode: &str,
    key: Option<(&str, pbs_tape::format::KeyConfig)>,
) -> uuid::Uuid {
    let mut devices = library_devices(lib);
    let tape = devices.load(barcode).unwrap();
    let mut w = MediaWriter::new(tape, WriterConfig::default()).unwrap();
    w.write_media_label(&MediaLabel {
        label_text: barcode.into(),
        uuid: uuid::Uuid::new_v4(),
        ctime: 1,
    })
    .unwrap();
    let set = uuid::Uuid::new_v4();
    w.write_media_set_label(&MediaSetLabel {
        pool: "offsite".into(),
        uuid: set,
        seq_nr: 0,
        ctime: 1,
        encryption_key_fingerprint: key.as_ref().map(|(fp, _)| fp.to_string()),
        key_config: key.map(|(_, c)| c),
    })
    .unwrap();
    w.commit().unwrap();
    drop(w);
    set
}

#[test]
fn key_recovered_from_the_tape_with_its_passphrase() {
    let owner = Env::new();
    let pass = owner.file("pass", "tape passphrase\n");
    let fp = owner.create("ask the CFO", "pbkdf2", &pass);
    let config = KeyStore::at(&owner.config_dir())
        .key_config(&fp.parse().unwrap())
        .unwrap();

    // A fresh machine without the key file, with the tape in its drive.
    let env = Env::new();
    let lib = make_named_library(
        &env.cli.data_dir().join("library"),
        2,
        64 * MIB,
        "KY",
        "PTKEYS",
        false,
    );
    let set = write_labels(&lib, "KY0001L9", Some((&fp, config)));

    let wrong = env.file("wrong", "tape passphrase?\n");
    let err = env
        .cli
        .fails(&["key", "restore", "--passphrase-file", s(&wrong)]);
    assert!(err.contains("hint: ask the CFO"), "{err}");
    let err = env.cli.fails(&["key", "restore"]);
    assert!(
        err.contains("needs its passphrase") && err.contains("ask the CFO"),
        "{err}"
    );
    let pass = env.file("pass", "tape passphrase\n");
    let out = env
        .cli
        .ok(&["key", "restore", "--passphrase-file", s(&pass)]);
    assert!(
        out.contains("KY0001L9") && out.contains(&set.to_string()),
        "{out}"
    );
    assert!(out.contains(&format!("imported key {fp}")), "{out}");
    let shown = env.cli.json(&["key", "show", &fp]);
    assert_eq!(shown["hint"], "ask the CFO");
    let again = env
        .cli
        .ok(&["key", "restore", "--passphrase-file", s(&pass)]);
    assert!(again.contains("already in the key store"), "{again}");

    // A tape of an unencrypted set carries no key.
    write_labels(&lib, "KY0002L9", None);
    let err = env
        .cli
        .fails(&["key", "restore", "--passphrase-file", s(&pass)]);
    assert!(err.contains("not encrypted"), "{err}");

    // Named by barcode, the tape is loaded through the changer (the one in
    // the drive goes back first) and put back into its slot.
    env.cli.ok(&["key", "remove", "--force", &fp]);
    let out = env
        .cli
        .ok(&["key", "restore", "--passphrase-file", s(&pass), "KY0001L9"]);
    assert!(out.contains(&format!("imported key {fp}")), "{out}");
    assert_eq!(env.cli.json(&["key", "show", &fp])["hint"], "ask the CFO");
    let status = lib.status().unwrap();
    let ky1 = status
        .cartridges
        .iter()
        .find(|c| c.cartridge.barcode == "KY0001L9")
        .unwrap();
    assert!(
        matches!(
            ky1.location,
            Some(pbs_tape::emulator::state::Location::Slot(_))
        ),
        "{:?}",
        ky1.location
    );
    let err = env.cli.fails(&[
        "key",
        "restore",
        "--changer",
        "nosuch",
        "--passphrase-file",
        s(&pass),
        "KY0001L9",
    ]);
    assert!(err.contains("no changer named nosuch"), "{err}");
    let err = env
        .cli
        .fails(&["key", "restore", "--passphrase-file", s(&pass), "KY0009L9"]);
    assert!(err.contains("cannot load KY0009L9"), "{err}");
}

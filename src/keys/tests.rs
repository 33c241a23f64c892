//! Key store tests on a temporary configuration directory.

use std::os::unix::fs::PermissionsExt;

use zeroize::Zeroizing;

use super::paperkey::{parse_key_text, render, PaperFormat};
use super::*;

fn pass(s: &str) -> Passphrase {
    Passphrase::new(Zeroizing::new(s.to_string())).unwrap()
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn create_list_show_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::at(&dir.path().join("cfg"));
    assert!(store.list().unwrap().is_empty());
    let info = store
        .create("office safe", Kdf::Scrypt, Some(&pass("secret one")))
        .unwrap();
    assert_eq!(info.kdf, "scrypt");
    assert_eq!(info.hint.as_deref(), Some("office safe"));
    assert_eq!(mode(&store.path()), 0o600);
    assert_eq!(mode(&dir.path().join("cfg")), 0o700);
    assert_eq!(mode(&dir.path().join("cfg").join(store::LOCK_FILE)), 0o600);
    let json = serde_json::to_value(&info).unwrap();
    let mut fields: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(
        fields,
        ["created", "fingerprint", "hint", "kdf", "modified"]
    );
    assert_eq!(store.list().unwrap(), vec![info.clone()]);
    assert_eq!(store.find(&info.fingerprint.short()).unwrap(), info);
    assert_eq!(store.find(&info.fingerprint.to_string()).unwrap(), info);
    assert!(matches!(
        store.find("00:00:00:00:00:00:00:00"),
        Err(KeyError::UnknownKey(_))
    ));

    let key = store
        .unlock(&info.fingerprint, Some(&pass("secret one")))
        .unwrap();
    assert_eq!(Fingerprint::of_key(&key).unwrap(), info.fingerprint);
    // The file holds no plain key.
    let text = std::fs::read_to_string(store.path()).unwrap();
    assert!(!text.contains(&pbs_tape::format::hex(key.as_bytes())));

    let err = store
        .unlock(&info.fingerprint, Some(&pass("secret two")))
        .unwrap_err();
    assert!(matches!(err, KeyError::WrongPassphrase { .. }));
    assert!(err.to_string().contains("(hint: office safe)"), "{err}");
    let err = store.unlock(&info.fingerprint, None).unwrap_err();
    assert!(matches!(err, KeyError::NeedPassphrase { .. }), "{err}");
    assert!(matches!(
        store.create("", Kdf::Pbkdf2, Some(&pass("12345"))),
        Err(KeyError::InvalidHint(_))
    ));
    assert!(matches!(
        store.create("x\ny", Kdf::Pbkdf2, Some(&pass("12345"))),
        Err(KeyError::InvalidHint(_))
    ));
}

#[test]
fn a_store_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::at(dir.path());
    store
        .create("h", Kdf::Pbkdf2, Some(&pass("12345")))
        .unwrap();
    std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = store.list().unwrap_err();
    assert!(
        matches!(err, KeyError::InsecureFile { mode: 0o644, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("chmod 600"));
}

#[test]
fn unwrapped_keys_and_passphrase_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::at(dir.path());
    let auto = store.create("robot", Kdf::None, None).unwrap();
    assert_eq!(auto.kdf, "none");
    assert!(auto.unwrapped_copy);
    let key = store.unlock(&auto.fingerprint, None).unwrap();
    assert!(matches!(
        store.key_config(&auto.fingerprint),
        Err(KeyError::NoWrappedCopy(_))
    ));
    // Give it a passphrase: no old one needed, the unwrapped copy stays.
    let changed = store
        .change_passphrase(
            &auto.fingerprint,
            None,
            Kdf::Pbkdf2,
            Some(&pass("first pass")),
            false,
        )
        .unwrap();
    assert_eq!(changed.kdf, "pbkdf2");
    assert!(changed.unwrapped_copy);
    let config = store.key_config(&auto.fingerprint).unwrap();
    let (k2, _) = unwrap_key_config(&config, &pass("first pass")).unwrap();
    assert_eq!(k2.as_bytes(), key.as_bytes());
    // Now the old passphrase is needed, or --force (root) from the copy.
    let err = store
        .change_passphrase(
            &auto.fingerprint,
            None,
            Kdf::Pbkdf2,
            Some(&pass("second")),
            false,
        )
        .unwrap_err();
    assert!(
        matches!(err, KeyError::NeedPassphraseOrForce { .. }),
        "{err}"
    );
    let err = store
        .change_passphrase(
            &auto.fingerprint,
            Some(&pass("not it")),
            Kdf::Pbkdf2,
            Some(&pass("second")),
            false,
        )
        .unwrap_err();
    assert!(err.to_string().contains("hint: robot"), "{err}");
    if nix::unistd::geteuid().is_root() {
        store
            .change_passphrase(
                &auto.fingerprint,
                None,
                Kdf::Pbkdf2,
                Some(&pass("second")),
                true,
            )
            .unwrap();
        let config = store.key_config(&auto.fingerprint).unwrap();
        assert!(unwrap_key_config(&config, &pass("second")).is_ok());
        assert!(unwrap_key_config(&config, &pass("first pass")).is_err());
    }

    // A wrapped-only key: --force has nothing to reset from.
    let wrapped = store
        .create("vault", Kdf::Pbkdf2, Some(&pass("vault pass")))
        .unwrap();
    if nix::unistd::geteuid().is_root() {
        assert!(matches!(
            store.change_passphrase(
                &wrapped.fingerprint,
                None,
                Kdf::Pbkdf2,
                Some(&pass("x1234")),
                true
            ),
            Err(KeyError::NoUnwrappedCopy(_))
        ));
    }
    store
        .change_passphrase(
            &wrapped.fingerprint,
            Some(&pass("vault pass")),
            Kdf::Scrypt,
            Some(&pass("new vault")),
            false,
        )
        .unwrap();
    assert!(store
        .unlock(&wrapped.fingerprint, Some(&pass("new vault")))
        .is_ok());
    assert_eq!(
        store.find(&wrapped.fingerprint.short()).unwrap().kdf,
        "scrypt"
    );

    store.remove(&wrapped.fingerprint).unwrap();
    assert!(matches!(
        store.remove(&wrapped.fingerprint),
        Err(KeyError::UnknownKey(_))
    ));
    assert_eq!(store.list().unwrap().len(), 1);
}

#[test]
fn paper_key_to_a_fresh_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::at(&dir.path().join("a"));
    let info = store
        .create("paper", Kdf::Pbkdf2, Some(&pass("paper pass")))
        .unwrap();
    let key = store
        .unlock(&info.fingerprint, Some(&pass("paper pass")))
        .unwrap();
    let paper = render(
        &store.key_config(&info.fingerprint).unwrap(),
        PaperFormat::Text,
    )
    .unwrap();
    assert!(!paper.contains(&pbs_tape::format::hex(key.as_bytes())));

    let fresh = KeyStore::at(&dir.path().join("b"));
    let config = parse_key_text(&paper).unwrap();
    let err = fresh.import(&config, &pass("wrong pass")).unwrap_err();
    assert!(err.to_string().contains("hint: paper"), "{err}");
    assert!(fresh.list().unwrap().is_empty());
    let (imported, what) = fresh.import(&config, &pass("paper pass")).unwrap();
    assert_eq!(what, Imported::Added);
    assert_eq!(imported.fingerprint, info.fingerprint);
    assert_eq!(imported.created, info.created);
    let again = fresh.import(&config, &pass("paper pass")).unwrap();
    assert_eq!(again.1, Imported::AlreadyPresent);
    let back = fresh
        .unlock(&info.fingerprint, Some(&pass("paper pass")))
        .unwrap();
    assert_eq!(back.as_bytes(), key.as_bytes());

    // A tampered fingerprint is caught.
    let mut bad = config.clone();
    bad.fingerprint = Some(
        Fingerprint::of_key(&PlainKey::generate().unwrap())
            .unwrap()
            .to_string(),
    );
    assert!(matches!(
        KeyStore::at(&dir.path().join("c")).import(&bad, &pass("paper pass")),
        Err(KeyError::Corrupt(_))
    ));
}

#[test]
fn key_ring_with_a_passphrase_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::at(dir.path());
    let info = store
        .create("ring", Kdf::Pbkdf2, Some(&pass("ring pass")))
        .unwrap();
    let file = dir.path().join("pass");
    std::fs::write(&file, "ring pass\n").unwrap();
    let mut ring = KeyRing::new(store.clone(), PassphraseSource::File(file.clone()));
    let key = ring.key(&info.fingerprint).unwrap();
    assert_eq!(Fingerprint::of_key(&key).unwrap(), info.fingerprint);
    std::fs::write(&file, "other pass\n").unwrap();
    // Opened once: the ring keeps it for the job.
    assert!(ring.key(&info.fingerprint).is_ok());
    let mut fresh = KeyRing::new(store.clone(), PassphraseSource::File(file));
    assert!(matches!(
        fresh.key(&info.fingerprint),
        Err(KeyError::WrongPassphrase { .. })
    ));
    let mut none = KeyRing::new(store, PassphraseSource::None);
    assert!(matches!(
        none.key(&info.fingerprint),
        Err(KeyError::NeedPassphrase { .. })
    ));
    let unknown = Fingerprint::of_key(&PlainKey::generate().unwrap()).unwrap();
    assert!(matches!(none.key(&unknown), Err(KeyError::UnknownKey(_))));
}

//! The JWT secret file: parsing, errors, generation.

use keel_execution::{JwtError, JwtSecret};

#[test]
fn generated_secret_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwt.hex");
    assert!(matches!(
        JwtSecret::load(&path),
        Err(JwtError::Missing { .. })
    ));
    let generated = JwtSecret::load_or_generate(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("0x") && text.len() == 66, "{text}");
    assert_eq!(JwtSecret::load(&path).unwrap(), generated);
    // A second call reads, not regenerates.
    assert_eq!(JwtSecret::load_or_generate(&path).unwrap(), generated);
    // Tokens signed with it verify with it, and not with another secret.
    let token = generated.token_at(1_000).unwrap();
    generated.verify(&token, 1_030).unwrap();
    assert!(matches!(
        generated.verify(&token, 1_061),
        Err(JwtError::StaleIat { .. })
    ));
    assert!(matches!(
        JwtSecret::random().verify(&token, 1_000),
        Err(JwtError::InvalidToken(_))
    ));
}

#[test]
fn accepted_formats() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwt.hex");
    let hex = "ab".repeat(32);
    for text in [
        hex.clone(),
        format!("0x{hex}"),
        format!("  0x{hex}\n"),
        format!("{}\r\n", hex.to_uppercase()),
    ] {
        std::fs::write(&path, &text).unwrap();
        assert_eq!(
            JwtSecret::load(&path).unwrap(),
            JwtSecret::from_bytes([0xab; 32]),
            "{text:?}"
        );
    }
}

#[test]
fn malformed_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwt.hex");

    std::fs::write(&path, "0x1234").unwrap();
    let err = JwtSecret::load(&path).unwrap_err();
    assert!(
        matches!(
            err,
            JwtError::WrongLength {
                expected: 64,
                found: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("malformed"), "{err}");

    std::fs::write(&path, "zz".repeat(32)).unwrap();
    let err = JwtSecret::load(&path).unwrap_err();
    assert!(matches!(err, JwtError::NotHex { .. }), "{err:?}");

    std::fs::write(&path, "").unwrap();
    assert!(matches!(
        JwtSecret::load(&path),
        Err(JwtError::WrongLength { found: 0, .. })
    ));
    // load_or_generate never overwrites a malformed file.
    assert!(JwtSecret::load_or_generate(&path).is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "");

    // A directory cannot be read as a file.
    let err = JwtSecret::load(dir.path()).unwrap_err();
    assert!(matches!(err, JwtError::Unreadable { .. }), "{err:?}");
}

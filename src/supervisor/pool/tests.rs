use super::*;

#[test]
fn quoting_survives_the_shell() {
    for text in ["plain", "with space", "it's", "$(rm -rf /)", "`x`", "a\"b", "new\nline"] {
        let out = std::process::Command::new("sh")
            .args(["-c", &format!("printf %s {}", quote(text))])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), text);
    }
}

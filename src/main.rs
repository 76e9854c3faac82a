fn main() -> std::process::ExitCode {
    lulu::cli::main()
}

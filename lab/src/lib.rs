//! What the lab's programs share: the demo (`make demo`), the benchmarks (`make
//! bench`), the fault-injection soak (`make reliability`) and the chaos run
//! (`make chaos`), each a binary under `src/bin/` on the test harness's emulator
//! and fixtures (`fast-autoscaler-tests`).

/// The value of `--name N` on the command line, or `default`; a value that does
/// not parse exits 2, naming it.
pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse().unwrap_or_else(|_| {
                eprintln!("{name} {v:?}: expected a number");
                std::process::exit(2)
            })
        })
        .unwrap_or(default)
}

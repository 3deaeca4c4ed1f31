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

/// The value of `--name R` as a share from 0 to 1, or `default`; anything
/// else exits 2, naming it.
pub fn share_arg(name: &str, default: f64) -> f64 {
    let share: f64 = arg(name, default);
    if !(0.0..=1.0).contains(&share) {
        eprintln!("{name} {share}: expected a share from 0 to 1");
        std::process::exit(2);
    }
    share
}

/// The moto emulator, started; without it, exits 1 saying which make target
/// installs it.
pub async fn emulator_or_exit(program: &str, target: &str) -> fast_autoscaler_tests::Emulator {
    let Some(emulator) = fast_autoscaler_tests::Emulator::start().await else {
        eprintln!(
            "{program} needs the moto emulator: run `make {target}`, which installs it into .venv"
        );
        std::process::exit(1);
    };
    emulator
}

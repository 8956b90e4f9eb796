//! The emulator command on its own, with the same flags as `akguard emulator`:
//! `cargo run -p akguard-emulator --example emulator -- --help`.

use clap::Parser;

#[derive(Parser)]
#[command(name = "emulator", about = "Local Huawei Cloud (IAM access keys, identity, CTS traces) for tests")]
struct Command {
    #[command(flatten)]
    args: akguard_emulator::cli::EmulatorArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let command = Command::parse();
    match akguard_emulator::cli::run(command.args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

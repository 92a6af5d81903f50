//! The stock `mlpipe` command: [`mlpipe::cli::main`] with the built-in parts. An
//! application with its own steps, models, split strategies, evaluators or backends builds
//! the same command line around its own [`mlpipe::PipelineBuilder`].

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    mlpipe::cli::main(mlpipe::PipelineBuilder::new())
}

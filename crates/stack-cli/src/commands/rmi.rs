//! `stack rmi IMAGE...`: remove image names and whatever only they used.

use clap::Args;
use stack_engine::images::Images;

/// Arguments of `stack rmi`.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Images by reference or id prefix.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

pub fn run(images: &Images, args: &RmiArgs) -> miette::Result<()> {
    let mut failed = Vec::new();
    for name in &args.images {
        match images.remove(name) {
            Ok(image) => {
                println!("Untagged: {}", image.reference);
                println!("Deleted: {}", image.id);
            }
            Err(e) => {
                eprintln!("Error: {e}");
                failed.push(name.clone());
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(miette::miette!("could not remove: {}", failed.join(", ")))
    }
}

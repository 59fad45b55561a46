//! `stack rmi IMAGE...`: remove image names and whatever only they used.

use clap::Args;

/// Arguments of `stack rmi`.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Images by reference or id prefix.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

pub fn run(via: &crate::switch::Via, args: &RmiArgs) -> miette::Result<()> {
    let mut failed = Vec::new();
    for name in &args.images {
        match via.api().remove_image(name) {
            Ok(image) => {
                // An unnamed image has no name to untag.
                if !image.untagged.is_empty() {
                    println!("Untagged: {}", image.untagged);
                }
                println!("Deleted: {}", image.deleted);
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

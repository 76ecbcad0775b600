//! The README's main job, end to end against the simulator started in-process: list a quarter
//! at client level, print its statistics, and download its files into `./recordings`.
//!
//! ```sh
//! cargo run -p telphin-records --example quarter
//! ```

use std::time::Instant;

use record_sim::{Sim, SimConfig};
use telphin_records::{
    ClientBuilder, ClientId, Credentials, DownloadOptions, DownloadSource, Order, Period, Scope,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    // A sandbox PBX on 127.0.0.1; with a real account, use its base URL and app credentials.
    let sim = Sim::start_blocking(SimConfig {
        record_count: 400,
        ..SimConfig::default()
    })?;
    let app = &sim.credentials().client;
    println!("record-sim serving at {}", sim.base_url());

    let client = ClientBuilder::new(Credentials::client_credentials(
        &app.client_id,
        &app.client_secret,
    ))
    .base_url(sim.base_url())
    .build_blocking()?;
    let pbx = Scope::client(ClientId::Me);
    // [from, until): every record of the quarter, its last fraction of a second included, and
    // none of April 1st.
    let quarter = Period::parse("2024-01-01 00:00:00", "2024-04-01 00:00:00")?;

    let records = client.list(pbx, quarter, Order::Asc)?;
    println!(
        "listed {} recordings of {quarter} in {} window requests",
        records.len(),
        quarter.query_range().windows().count()
    );
    let stats = client.stats(pbx, quarter)?;
    println!(
        "statistics: {} recordings, {:.1} MiB in all",
        stats.count,
        stats.size as f64 / (1024.0 * 1024.0)
    );

    let folder = std::path::Path::new("recordings");
    std::fs::create_dir_all(folder)?;
    let mut bytes = 0u64;
    for record in &records {
        // The record id is validated (`<digits>-<hex>`), so it is safe as a file name; the
        // server's own file name is not.
        let path = folder.join(format!("{}.mp3", record.record_uuid));
        // The API's file route: one request per file. (A storage link costs a request to learn
        // it first; it pays off for downloads repeated with a kept link.)
        let options = DownloadOptions::for_record(record, DownloadSource::Api);
        bytes += client
            .download_to_path(pbx, &record.record_uuid, &path, options)?
            .bytes;
    }
    println!(
        "downloaded {} files, {:.1} MiB, into ./{} — each verified against record_file_size — in {:.1} s",
        records.len(),
        bytes as f64 / (1024.0 * 1024.0),
        folder.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

"""The `pureboot` command."""

from __future__ import annotations

import sys

import click

from . import __version__
from .config import load_settings


@click.group(help="""PureBoot: network-boot provisioning over the whole life of a machine.

Settings come from PUREBOOT_* environment variables or a YAML file named by
PUREBOOT_CONFIG (e.g. PUREBOOT_DATA_DIR, PUREBOOT_DATABASE_URL, PUREBOOT_LISTEN).
With nothing set, PureBoot keeps a SQLite database under its data directory.

\b
Typical first run:
  pureboot db upgrade     create or migrate the database
  pureboot serve          run the controller API (http://127.0.0.1:8080/api/v1/docs)""")
@click.version_option(__version__, prog_name="pureboot")
def main() -> None:
    pass


@main.group(help="Database schema management.")
def db() -> None:
    pass


@db.command("upgrade", help="Create the database or migrate it to the current schema.")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    from pathlib import Path

    from .migrate import upgrade
    settings = load_settings()
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_uri, revision, settings=settings)  # 0007 re-encrypts with the keys
    click.echo(f"database is at {revision}: {_redacted(settings.database_uri)}")


@db.command("current", help="Show the database's schema revision and the one this version needs.")
def db_current() -> None:
    from .db import make_engine
    from .migrate import current_revision, head_revision
    settings = load_settings()
    with make_engine(settings.database_uri).connect() as connection:
        current = current_revision(connection)
    click.echo(f"current: {current or 'none'}\nhead:    {head_revision()}")
    sys.exit(0 if current == head_revision() else 1)


@main.group(help="Jobs (playbook runs).")
def jobs() -> None:
    pass


@jobs.command("prune", help="Delete events and artifacts of jobs finished more than N days ago.")
@click.option("--days", type=click.IntRange(min=0), help="default: the job_event_retention_days setting")
def jobs_prune(days: int | None) -> None:
    from .db import Database
    from .jobs.service import prune
    settings = load_settings()
    database = Database(settings.database_uri)
    try:
        result = prune(database, settings, days)
    finally:
        database.dispose()
    click.echo(f"pruned {result['events']} event(s) of {result['jobs']} job(s)")


@main.command(help="Run the controller API with gunicorn (threads, as deployed).")
@click.option("--listen", help="address:port (default from PUREBOOT_LISTEN, 127.0.0.1:8080)")
@click.option("--workers", type=int, help="worker processes")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), help="serve HTTPS with this PEM certificate")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="the certificate's PEM private key")
@click.option("--tls-self-signed", is_flag=True, default=None,
              help="serve HTTPS with a certificate generated once in <data_dir>/tls")
def serve(listen: str | None, workers: int | None, **tls) -> None:
    from .migrate import NotMigrated
    from .serve import run
    settings = load_settings()
    try:
        given = {"listen": listen, "workers": workers, **tls}
        settings = settings.with_overrides(**{k: v for k, v in given.items() if v})
        from .app import create_app
        bootstrap_admin(create_app(settings))
        run(settings)
    except NotMigrated as exc:
        raise click.ClickException(str(exc)) from None


@main.group(help="The deploy agent (kernel + initramfs that images, wipes and inventories nodes).")
def agent() -> None:
    pass


@agent.command("build", help="Build the agent from Debian packages into the data directory "
                             "(or --output DIR): vmlinuz, initrd.img, manifest.json.")
@click.option("--output", type=click.Path(file_okay=False), help="default: <data_dir>/agent")
@click.option("--kernel-package", help="e.g. linux-image-6.1.0-56-cloud-amd64 (default: what "
                                       "linux-image-cloud-amd64 points at)")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="download cache (default ~/.cache/pureboot)")
def agent_build(output: str | None, kernel_package: str | None, cache_dir: str | None) -> None:
    from pathlib import Path

    from .agent.builder import BuildError, agent_dir, build
    target = Path(output) if output else agent_dir(load_settings().data_dir)
    try:
        manifest = build(target, Path(cache_dir) if cache_dir else None, kernel_package,
                         progress=lambda step: click.echo(f"agent build: {step}", err=True))
    except (BuildError, RuntimeError, KeyError) as exc:
        raise click.ClickException(str(exc)) from None
    files = manifest["files"]
    click.echo(f"agent {manifest['version']} -> {target}")
    for name, info in files.items():
        click.echo(f"  {name:11} {info['size']:>10} bytes  sha256 {info['sha256']}")


@agent.command("info", help="Show the manifest of the built agent.")
def agent_info() -> None:
    import json

    from .agent.builder import agent_dir, read_manifest
    manifest = read_manifest(agent_dir(load_settings().data_dir))
    if manifest is None:
        raise click.ClickException("no agent built yet: run `pureboot agent build`")
    click.echo(json.dumps(manifest, indent=2))


@main.command(help="Fail nodes stuck in installing longer than install_timeout.")
@click.option("--once", is_flag=True, help="one sweep, then exit (for cron/systemd timers)")
@click.option("--interval", type=float, help="seconds between sweeps (default: watchdog_interval)")
def watchdog(once: bool, interval: float | None) -> None:
    from .db import Database
    from .services.watchdog import Watchdog, run_once
    settings = load_settings()
    database = Database(settings.database_uri)
    if once:
        failed = run_once(database, settings.install_timeout)
        click.echo(f"watchdog: {len(failed)} node(s) failed: {failed}" if failed else "watchdog: nothing stuck")
        return
    thread = Watchdog(database, settings.install_timeout, interval or settings.watchdog_interval or 60)
    thread.start()
    thread.join()


@main.command("boot", help="""Run the boot service for one site: proxy-DHCP (or full DHCP),
TFTP and IPv6 RA. It talks to the controller over HTTP only.""")
@click.option("--controller", required=True, help="controller URL as this service reaches it")
@click.option("--public-url", help="controller URL as booting nodes reach it (default: --controller)")
@click.option("--interface", required=True, help="network interface facing the nodes")
@click.option("--address", help="this service's IPv4 address for nodes (default: the interface's)")
@click.option("--tftp-root", required=True, type=click.Path(exists=True, file_okay=False),
              help="loaders laid out by `pureboot boot-files`")
@click.option("--dhcp-mode", type=click.Choice(["proxy", "full"]), default="proxy", show_default=True)
@click.option("--pool", help="full mode: START-END addresses to lease")
@click.option("--netmask", help="full mode: subnet mask (default: the interface's)")
@click.option("--router", help="full mode: default gateway to hand out")
@click.option("--dns", multiple=True, help="full mode: DNS server (repeatable)")
@click.option("--lease-time", type=int, default=3600, show_default=True)
@click.option("--tftp-port", type=int, help="default 69 as root, else 6969")
@click.option("--dhcp-port", type=int, help="default 67 as root, else 6767")
@click.option("--pxe-port", type=int, help="PXE (4011) port; default 4011 as root, else 6711")
@click.option("--bios-loader", type=click.Choice(["ipxe", "pxelinux"]), default="ipxe", show_default=True)
@click.option("--uefi-loader", type=click.Choice(["ipxe", "grub"]), default="ipxe", show_default=True)
@click.option("--timeout", type=float, default=2.0, show_default=True,
              help="seconds to wait for the controller before answering boot-local (Rule D)")
@click.option("--cache-ttl", type=float, default=5.0, show_default=True, help="seconds to cache Rule E answers")
@click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False), envvar="PUREBOOT_CA_BUNDLE",
              help="PEM CA bundle to verify an https:// --controller (default: system store)")
@click.option("--no-ra", is_flag=True, help="do not answer IPv6 router solicitations")
@click.option("--answer-installed", is_flag=True,
              help="also answer PXE from installed/active/failed nodes so the controller sends them "
                   "to their disk (Rule B); off: strict Rule E, such nodes get no answer")
@click.option("--share-dhcp-port", is_flag=True,
              help="proxy mode: share the DHCP port with this host's own DHCP server (SO_REUSEADDR; "
                   "that server must allow it too); off: a taken port stops the service at start")
@click.option("--log-level", default="INFO", show_default=True)
def boot(log_level: str, no_ra: bool, dns: tuple[str, ...], **options) -> None:
    import logging

    from .bootsvc.service import BootConfig, BootService
    from .bootsvc.sockets import BindError
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("tftpy").setLevel(logging.WARNING)
    try:
        BootService(BootConfig(ra=not no_ra, dns=dns, **options)).run_until_signalled()
    except BindError as exc:  # a port conflict: say which port and which option, no traceback
        raise click.ClickException(str(exc)) from None


@main.command("boot-files", help="""Lay out a TFTP root from Debian packages: iPXE
(undionly.kpxe, ipxe.efi, snponly.efi), PXELINUX + ldlinux.c32 & co, GRUB images built
with grub-mkimage (netboot grubx64.efi, UEFI local-boot grub/localboot-x64.efi), shim.
Point the controller's boot_files_dir at the same directory to serve them over HTTP.""")
@click.option("--tftp-root", required=True, type=click.Path(file_okay=False))
@click.option("--check", is_flag=True, help="report what would change, change nothing")
def boot_files(tftp_root: str, check: bool) -> None:
    from .shared import bootfiles
    try:
        result = bootfiles.install(tftp_root, check_mode=check)
    except (OSError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    verb = "would update" if check else "updated"
    for name in result["copied"] + result["built"]:
        click.echo(f"{verb} {name}")
    for name in result["missing"]:
        click.echo(f"missing {name}", err=True)
    click.echo(f"{result['root']}: {'changed' if result['changed'] else 'up to date'}")
    if result["failed"]:
        raise click.ClickException("required loaders are missing: " + ", ".join(result["failed"])
                                   + " (apt-get install ipxe)")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


from .cli_security import bootstrap_admin, register  # noqa: E402  (after main exists)

register(main)

if __name__ == "__main__":
    main()

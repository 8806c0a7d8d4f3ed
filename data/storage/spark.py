"""Apache Spark as an engine (the `spark` extra): a session, and materialising on it.

Local mode (`local[*]`) unless a master URL is given or Spark Connect's `SPARK_REMOTE`
names a server. The session time zone is UTC, so a timestamp's date is its UTC date as the
spec says; in local mode few shuffle partitions, since Spark's default of 200 costs more
than the work on one machine. One session serves the whole process.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from data.storage.engines import EngineError

SPARK_MASTER = "local[*]"
SPARK_REMOTE_ENV = "SPARK_REMOTE"  # Spark Connect's address, as Spark itself reads it
# Few shuffle partitions: Spark's default of 200 costs more than the work on one machine.
SPARK_LOCAL_PARTITIONS = 4
SPARK_LOCAL_MEMORY = "4g"
INSTALL = "pip install 'consentlens[spark]'"
LOGGING = Path(__file__).with_name("spark-log4j2.properties")  # errors only


def _session(master: str | None) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError(f"--engine spark needs PySpark: {INSTALL}") from None
    remote = os.environ.get(SPARK_REMOTE_ENV)
    if remote and not master:
        return SparkSession.builder.remote(remote).getOrCreate()
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise EngineError(
            "--engine spark runs Spark on this machine and needs Java 17 or later "
            "(Debian: apt-get install openjdk-17-jre-headless), or a cluster: "
            f"--spark-master URL or ${SPARK_REMOTE_ENV}"
        )
    master = master or SPARK_MASTER
    builder = (
        SparkSession.builder.master(master)
        .appName("consentlens")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOGGING}")
    )
    if master.startswith("local"):
        # All of Spark runs in this one JVM: room for a few million customers' events.
        builder = builder.config(
            "spark.sql.shuffle.partitions", str(SPARK_LOCAL_PARTITIONS)
        ).config("spark.driver.memory", SPARK_LOCAL_MEMORY)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # Spark's start-up failures have no common base class
        raise EngineError(f"Spark did not start on {master}: {_first_line(error)}") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def connect(master: str | None = None) -> tuple[ibis.BaseBackend, Any]:
    """Ibis's PySpark backend on this process's Spark session, and the session."""
    session = _session(master)
    return ibis.pyspark.connect(session), session


def cached(backend: ibis.BaseBackend, session: Any, expr: ir.Table) -> Iterator[ir.Table]:
    """`expr` computed once and cached, as a temporary view; released afterwards.

    Spark has no temporary tables: a cached DataFrame under a temporary view is its way.
    """
    name = f"_intermediate_{uuid.uuid4().hex}"
    frame = session.sql(backend.compile(expr)).cache()
    frame.createOrReplaceTempView(name)
    try:
        yield backend.table(name)
    finally:
        session.catalog.dropTempView(name)
        frame.unpersist()

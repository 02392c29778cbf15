from setuptools import find_packages, setup

# Only for storage: azure (pip install 'tap-intacct[azure]'); S3 users do not carry them.
# azure-storage-blob: the releases storage/azure.py VERIFIED_SDK_RELEASES lists (it uses one
# private operation; docs/ARCHITECTURE.md, "Third-party internals").
# azure-storage-queue: the event mode's storage queue (listing: events; README "Event mode"),
# which Event Grid fills with the container's BlobCreated events.
AZURE = ["azure-storage-blob>=12.23,<12.32", "azure-identity>=1.15,<2",
         "azure-storage-queue>=12.9,<13"]
PGP = "pysequoia>=0.1.35,<0.2"

setup(
    name="tap-intacct",
    version="2.0.0",
    description=("Singer tap for Sage Intacct Data Delivery Service (DDS) exports in Amazon S3 "
                 "or Azure Blob Storage"),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["tap_intacct", "tap_intacct.*"]),
    install_requires=[
        "singer-python>=6.0,<7",
        # 1.34: botocore's RefreshableCredentials take their refresh margins (storage/s3.py)
        "boto3>=1.34,<2",
        "backoff>=2.2,<3",
    ],
    extras_require={
        "azure": AZURE,
        # the optional columnar engine (TAP_INTACCT_ENGINE); same output, more records/s
        # isal: ISA-L's gzip, 4x zlib's speed for BATCH files (docs/BENCHMARKS.md)
        "fast": ["pyarrow>=14", "numpy>=1.24", "isal>=1.6"],
        # PGP-encrypted exports (README "Encrypted exports"): Sequoia-PGP (Rust), wheels for
        # Linux and macOS, no gpg binary; its API is young, so the minor release is pinned
        "pgp": [PGP],
        "test": [
            *AZURE,
            # moto 5's server extra needs jsonschema 4; singer-python pins jsonschema 2.
            "moto[server]>=4.2,<5",
            "pytest>=7,<10",
            "hypothesis>=6.80,<7",
            "ruff>=0.5",
            "mypy>=1.8",
            "pytest-xdist>=3.5",  # e2e tests mostly wait on servers: several workers
            "pyyaml>=6",
            PGP,
            # a second OpenPGP implementation (rPGP): the tests' messages with compression
            # inside and passphrase-protected keys, which pysequoia cannot make
            "rpgp-py>=0.20,<0.21",
        ],
    },
    entry_points={"console_scripts": ["tap-intacct=tap_intacct:cli"]},
    classifiers=["Programming Language :: Python :: 3"],
)

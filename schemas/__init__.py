"""Wire and storage types shared by every package (msgspec Structs), plus the error tree."""

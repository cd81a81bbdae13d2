"""A small vision-language-action policy trained in this project: frozen pretrained encoders
(MobileNetV2 on ImageNet for images, all-MiniLM-L6-v2 for instructions) and a small trained head
that outputs end-effector action chunks. Needs the `learned` extra (torch, transformers, ...)."""

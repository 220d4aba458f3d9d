"""Preparing a media for each network: its facts as the rules read them, whether its
variants are current (`service.is_current`, the one freshness rule), making and keeping
them (`files`, `tasks`), and which file each network is sent (`choice`).

Dependencies run posts → variants → media: a post's check and plan and the publisher
ask here; media knows nothing of variants beyond the columns that hold them.
"""

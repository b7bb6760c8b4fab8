"""The interactive dashboard 交互式仪表盘 (Solara): ``qhsim dashboard``; see README "Dashboard"."""
